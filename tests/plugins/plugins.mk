# plugins.mk: test plugin modules (broken ones for the loader, a probe of the source hooks), built by make check only.
TEST_MODULE_FLAGS = -module -avoid-version -shared -rpath /nowhere $(AM_LDFLAGS)
check_LTLIBRARIES = tests/plugins/bad_abi.la tests/plugins/no_symbol.la tests/plugins/misnamed.la \
	tests/plugins/unresolved.la tests/plugins/probe_source.la
tests_plugins_bad_abi_la_SOURCES = tests/plugins/bad_abi.c
tests_plugins_bad_abi_la_LDFLAGS = $(TEST_MODULE_FLAGS)
tests_plugins_no_symbol_la_SOURCES = tests/plugins/no_symbol.c
tests_plugins_no_symbol_la_LDFLAGS = $(TEST_MODULE_FLAGS)
tests_plugins_misnamed_la_SOURCES = tests/plugins/misnamed.c
tests_plugins_misnamed_la_LDFLAGS = $(TEST_MODULE_FLAGS)
tests_plugins_unresolved_la_SOURCES = tests/plugins/unresolved.c
tests_plugins_unresolved_la_LDFLAGS = $(TEST_MODULE_FLAGS)
tests_plugins_probe_source_la_SOURCES = tests/plugins/probe_source.c
tests_plugins_probe_source_la_CFLAGS = $(AM_CFLAGS) $(LIBEVENT_CFLAGS)
tests_plugins_probe_source_la_LDFLAGS = $(TEST_MODULE_FLAGS)

check_PROGRAMS += tests/unit/test_plugin
TESTS += tests/unit/test_plugin
tests_unit_test_plugin_SOURCES = tests/unit/test_plugin.c
tests_unit_test_plugin_CPPFLAGS = $(AM_CPPFLAGS) -DLG_TEST_MODULE_DIR='"$(abs_builddir)/tests/plugins/.libs"'
tests_unit_test_plugin_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_plugin_LDADD = $(UNIT_TEST_LIBS_COMMON)
