# sysmetrics.mk: build rules fragment, included by Makefile.am.

# The module exports only its descriptor, so its helpers can never bind to,
# or be bound by, symbols of the same name in the executable.
pkglib_LTLIBRARIES += plugins/sysmetrics/sysmetrics.la
plugins_sysmetrics_sysmetrics_la_SOURCES = \
	plugins/sysmetrics/sysmetrics.c \
	plugins/sysmetrics/proc.c plugins/sysmetrics/proc.h \
	plugins/sysmetrics/payload.c plugins/sysmetrics/payload.h
plugins_sysmetrics_sysmetrics_la_LDFLAGS = $(MODULE_LINK_FLAGS) -export-symbols-regex '^livegate_plugin$$'

# Unit tests of the /proc parsers, the rates and the payloads, on the fake
# proc trees under tests/unit/fixtures/proc.
check_PROGRAMS += tests/unit/test_sysmetrics
TESTS += tests/unit/test_sysmetrics
tests_unit_test_sysmetrics_SOURCES = tests/unit/test_sysmetrics.c \
	plugins/sysmetrics/proc.c plugins/sysmetrics/proc.h \
	plugins/sysmetrics/payload.c plugins/sysmetrics/payload.h
tests_unit_test_sysmetrics_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/sysmetrics \
	-DLG_TEST_PROC_FIXTURES='"$(abs_top_srcdir)/tests/unit/fixtures/proc"'
tests_unit_test_sysmetrics_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_sysmetrics_LDADD = $(UNIT_TEST_LIBS_COMMON) $(JANSSON_LIBS)
EXTRA_DIST += tests/unit/fixtures/proc
