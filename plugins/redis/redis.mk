# redis.mk: build rules fragment, included by Makefile.am.

# The module exports only its descriptor, like the other plugins.
pkglib_LTLIBRARIES += plugins/redis/redis.la
plugins_redis_redis_la_SOURCES = \
	plugins/redis/redis.c plugins/redis/redis_source.h \
	plugins/redis/redis_config.c plugins/redis/redis_config.h \
	plugins/redis/address.c plugins/redis/address.h \
	plugins/redis/template.c plugins/redis/template.h \
	plugins/redis/link.c plugins/redis/link.h \
	plugins/redis/subscriber.c \
	plugins/redis/fetch.c \
	plugins/redis/http_fetch.c plugins/redis/http_fetch.h \
	plugins/redis/notify.c
plugins_redis_redis_la_CFLAGS = $(AM_CFLAGS) $(HIREDIS_CFLAGS)
plugins_redis_redis_la_LIBADD = $(HIREDIS_LIBS) $(LIBEVENT_LIBS) $(JANSSON_LIBS)
plugins_redis_redis_la_LDFLAGS = $(MODULE_LINK_FLAGS) -export-symbols-regex '^livegate_plugin$$'

# Unit tests of address parsing and templates.
check_PROGRAMS += tests/unit/test_redis
TESTS += tests/unit/test_redis
tests_unit_test_redis_SOURCES = tests/unit/test_redis.c \
	plugins/redis/address.c plugins/redis/address.h \
	plugins/redis/template.c plugins/redis/template.h
tests_unit_test_redis_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/redis
tests_unit_test_redis_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_redis_LDADD = $(UNIT_TEST_LIBS_COMMON)
