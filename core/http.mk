# http.mk: build rules fragment, included by Makefile.am.
# The HTTP/1.1 server (core/http.h) and its unit test.
libcore_la_SOURCES += \
	core/http.h core/http_internal.h \
	core/http_socket.c \
	core/http_server.c \
	core/http_request.c \
	core/http_routes.c \
	core/http_response.c \
	core/http_static.c \
	core/http_client.c core/http_client.h
libcore_la_LIBADD += $(CURL_LIBS)

check_PROGRAMS += tests/unit/test_http
TESTS += tests/unit/test_http
tests_unit_test_http_SOURCES = tests/unit/test_http.c
tests_unit_test_http_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_http_LDADD = $(UNIT_TEST_LIBS_COMMON)
