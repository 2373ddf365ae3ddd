# http_poll.mk: the HTTP poll bridge source module and its unit test, included by Makefile.am.
pkglib_LTLIBRARIES += plugins/http_poll/http_poll.la
plugins_http_poll_http_poll_la_SOURCES = \
	plugins/http_poll/http_poll.c \
	plugins/http_poll/extract.c plugins/http_poll/extract.h
plugins_http_poll_http_poll_la_LIBADD = $(JANSSON_LIBS)
plugins_http_poll_http_poll_la_LDFLAGS = $(MODULE_LINK_FLAGS) -export-symbols-regex '^livegate_plugin$$'

# Unit tests of array splitting, keys and change detection.
check_PROGRAMS += tests/unit/test_http_poll
TESTS += tests/unit/test_http_poll
tests_unit_test_http_poll_SOURCES = tests/unit/test_http_poll.c \
	plugins/http_poll/extract.c plugins/http_poll/extract.h
tests_unit_test_http_poll_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/http_poll
tests_unit_test_http_poll_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_http_poll_LDADD = $(UNIT_TEST_LIBS_COMMON) $(JANSSON_LIBS)
