# gateway.mk: the core's channel, thread, stream, admin and lifecycle sources, included by Makefile.am.
libcore_la_SOURCES += \
	core/address_limit.c core/address_limit.h \
	core/backoff.c core/backoff.h \
	core/admin.c core/admin.h \
	core/channel.c core/channel.h \
	core/dedup.c core/dedup.h \
	core/gateway.c core/gateway.h \
	core/glob.c core/glob.h \
	core/hashmap.h \
	core/history.c core/history.h \
	core/hub.c core/hub.h \
	core/instance.c core/instance.h \
	core/lua_json.c core/lua_json.h \
	core/lua_sandbox.c core/lua_sandbox.h \
	core/lua_script.c core/lua_script.h \
	core/mailbox.c core/mailbox.h \
	core/messages.h \
	core/metrics.c \
	core/names.c core/names.h \
	core/outqueue.c core/outqueue.h \
	core/pacer.c core/pacer.h \
	core/random.c core/random.h \
	core/plugin.c core/plugin.h \
	core/plugin_exports.c \
	core/positions.c core/positions.h \
	core/publish_via.c core/publish_via.h \
	core/reload.c \
	core/resume.c core/resume.h \
	core/rule_scripts.c core/rule_scripts.h \
	core/script_tests.c core/script_tests.h \
	core/rules.c core/rules.h \
	core/settings.c core/settings.h \
	core/snapshot.c core/snapshot.h \
	core/source_hooks.c core/source_hooks.h \
	core/stats.c core/stats.h \
	core/stats_channel.c core/stats_channel.h \
	core/stream.c core/stream_worker.h \
	core/worker.c core/worker.h
libcore_la_LIBADD += $(OPENSSL_LIBS) -lm
