# websocket.mk: the WebSocket sink module and its unit test, included by Makefile.am.
pkglib_LTLIBRARIES += plugins/websocket/websocket.la
plugins_websocket_websocket_la_SOURCES = \
	plugins/websocket/websocket.c \
	plugins/websocket/ws_conn.c plugins/websocket/ws_conn.h \
	plugins/websocket/ws_deflate.c plugins/websocket/ws_deflate.h \
	plugins/websocket/ws_handshake.c plugins/websocket/ws_handshake.h \
	plugins/websocket/ws_json_span.c plugins/websocket/ws_json_span.h \
	plugins/websocket/ws_message.c plugins/websocket/ws_message.h \
	plugins/websocket/ws_protocol.c plugins/websocket/ws_protocol.h
plugins_websocket_websocket_la_LDFLAGS = $(MODULE_LINK_FLAGS) -export-symbols-regex '^livegate_plugin$$'
plugins_websocket_websocket_la_LIBADD = $(WSLAY_LIBS) $(OPENSSL_LIBS) $(JANSSON_LIBS) $(ZLIB_LIBS)

check_PROGRAMS += tests/unit/test_websocket
TESTS += tests/unit/test_websocket
tests_unit_test_websocket_SOURCES = tests/unit/test_websocket.c \
	plugins/websocket/ws_handshake.c plugins/websocket/ws_message.c plugins/websocket/ws_protocol.c \
	plugins/websocket/ws_deflate.c plugins/websocket/ws_json_span.c
tests_unit_test_websocket_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/websocket
tests_unit_test_websocket_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_websocket_LDADD = $(UNIT_TEST_LIBS_COMMON) $(OPENSSL_LIBS) $(JANSSON_LIBS) $(ZLIB_LIBS)
