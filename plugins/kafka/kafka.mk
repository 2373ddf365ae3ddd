# kafka.mk: the Kafka source module and its unit test, included by Makefile.am.
pkglib_LTLIBRARIES += plugins/kafka/kafka.la
plugins_kafka_kafka_la_SOURCES = \
	plugins/kafka/kafka.c \
	plugins/kafka/discovery.c plugins/kafka/discovery.h \
	plugins/kafka/producer.c plugins/kafka/producer.h \
	plugins/kafka/properties.c plugins/kafka/properties.h \
	plugins/kafka/rdkafka_glue.c plugins/kafka/rdkafka_glue.h \
	plugins/kafka/read_back.c plugins/kafka/read_back.h \
	plugins/kafka/record.c plugins/kafka/record.h \
	plugins/kafka/route.c plugins/kafka/route.h \
	plugins/kafka/start_time.c plugins/kafka/start_time.h \
	plugins/kafka/consumer_stats.c plugins/kafka/consumer_stats.h
plugins_kafka_kafka_la_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS)
plugins_kafka_kafka_la_LIBADD = $(RDKAFKA_LIBS) $(JANSSON_LIBS) -lpthread
plugins_kafka_kafka_la_LDFLAGS = $(MODULE_LINK_FLAGS) -export-symbols-regex '^livegate_plugin$$'

# Unit tests of record routing and of the statistics parser.
check_PROGRAMS += tests/unit/test_kafka
TESTS += tests/unit/test_kafka
tests_unit_test_kafka_SOURCES = tests/unit/test_kafka.c \
	plugins/kafka/route.c plugins/kafka/route.h \
	plugins/kafka/start_time.c plugins/kafka/start_time.h \
	plugins/kafka/consumer_stats.c plugins/kafka/consumer_stats.h
tests_unit_test_kafka_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/kafka
tests_unit_test_kafka_CFLAGS = $(UNIT_TEST_CFLAGS_COMMON)
tests_unit_test_kafka_LDADD = $(UNIT_TEST_LIBS_COMMON) $(JANSSON_LIBS)
