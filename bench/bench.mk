# bench.mk: benchmark programs, built by make but not run by the tests, included by Makefile.am.
noinst_PROGRAMS = bench/ws-deflate-bench
bench_ws_deflate_bench_SOURCES = bench/ws_deflate_bench.c plugins/websocket/ws_deflate.c
bench_ws_deflate_bench_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/websocket
bench_ws_deflate_bench_LDADD = libcore.la $(ZLIB_LIBS)

noinst_PROGRAMS += bench/lua-bench
bench_lua_bench_SOURCES = bench/lua_bench.c
bench_lua_bench_LDADD = libcore.la

# The load generator: SSE and WebSocket subscribers against livegate or
# nginx+Nchan; bench/run.sh drives it.
noinst_PROGRAMS += bench/loadgen
bench_loadgen_SOURCES = bench/loadgen.c bench/loadgen.h bench/loadgen_histogram.c bench/loadgen_histogram.h \
	bench/loadgen_publisher.c bench/loadgen_rss.c bench/loadgen_subscriber.c bench/loadgen_target.c \
	bench/ws_frame.c bench/ws_frame.h
bench_loadgen_LDADD = $(LIBEVENT_LIBS) $(OPENSSL_LIBS)

# The ceiling of the fan-out benchmarks: one writev per subscriber and wake-up, nothing else.
noinst_PROGRAMS += bench/fanout-ceiling
bench_fanout_ceiling_SOURCES = bench/fanout_ceiling.c bench/fanout_ceiling.h bench/fanout_ceiling_intake.c \
	bench/ws_frame.c bench/ws_frame.h
bench_fanout_ceiling_LDADD = $(LIBEVENT_LIBS) $(OPENSSL_LIBS)
