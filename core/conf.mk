# conf.mk: build rules fragment, included by Makefile.am.
# The YAML configuration loader and the option tables built on it.
libcore_la_SOURCES += core/conf.c core/conf_env.c core/conf.h \
	core/options.c core/options_units.c core/options_help.c core/options.h

check_PROGRAMS += tests/unit/test_conf tests/unit/test_options
TESTS += tests/unit/test_conf tests/unit/test_options

tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
tests_unit_test_conf_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_conf_LDADD = $(UNIT_TEST_LIBS_COMMON)

tests_unit_test_options_SOURCES = tests/unit/test_options.c
tests_unit_test_options_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_options_LDADD = $(UNIT_TEST_LIBS_COMMON)
