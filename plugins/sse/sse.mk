# sse.mk: the Server-Sent Events sink module, included by Makefile.am.
pkglib_LTLIBRARIES += plugins/sse/sse.la
plugins_sse_sse_la_SOURCES = plugins/sse/sse.c plugins/sse/sse_encode.c plugins/sse/sse_encode.h
plugins_sse_sse_la_LDFLAGS = $(MODULE_LINK_FLAGS) -export-symbols-regex '^livegate_plugin$$'
