# unit.mk: cmocka tests of the channel core, the outbound queue, the SSE encoding, the pacer, the log rate limit, Lua, retry delays and dedup windows, included by Makefile.am.
check_PROGRAMS += tests/unit/test_channel tests/unit/test_outqueue tests/unit/test_sse
TESTS += tests/unit/test_channel tests/unit/test_outqueue tests/unit/test_sse

tests_unit_test_channel_SOURCES = tests/unit/test_channel.c
tests_unit_test_channel_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_channel_LDADD = $(UNIT_TEST_LIBS_COMMON)

tests_unit_test_outqueue_SOURCES = tests/unit/test_outqueue.c
tests_unit_test_outqueue_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_outqueue_LDADD = $(UNIT_TEST_LIBS_COMMON)

tests_unit_test_sse_SOURCES = tests/unit/test_sse.c plugins/sse/sse_encode.c plugins/sse/sse_encode.h
tests_unit_test_sse_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/sse
tests_unit_test_sse_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_sse_LDADD = $(UNIT_TEST_LIBS_COMMON)

check_PROGRAMS += tests/unit/test_pacer
TESTS += tests/unit/test_pacer
tests_unit_test_pacer_SOURCES = tests/unit/test_pacer.c
tests_unit_test_pacer_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_pacer_LDADD = $(UNIT_TEST_LIBS_COMMON)

check_PROGRAMS += tests/unit/test_log
TESTS += tests/unit/test_log
tests_unit_test_log_SOURCES = tests/unit/test_log.c
tests_unit_test_log_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_log_LDADD = $(UNIT_TEST_LIBS_COMMON)

check_PROGRAMS += tests/unit/test_lua
TESTS += tests/unit/test_lua
tests_unit_test_lua_SOURCES = tests/unit/test_lua.c
tests_unit_test_lua_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON) $(LUA_CFLAGS)
tests_unit_test_lua_LDADD = $(UNIT_TEST_LIBS_COMMON) $(LUA_LIBS)

check_PROGRAMS += tests/unit/test_backoff
TESTS += tests/unit/test_backoff
tests_unit_test_backoff_SOURCES = tests/unit/test_backoff.c
tests_unit_test_backoff_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_backoff_LDADD = $(UNIT_TEST_LIBS_COMMON)

check_PROGRAMS += tests/unit/test_dedup
TESTS += tests/unit/test_dedup
tests_unit_test_dedup_SOURCES = tests/unit/test_dedup.c
tests_unit_test_dedup_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_dedup_LDADD = $(UNIT_TEST_LIBS_COMMON)
