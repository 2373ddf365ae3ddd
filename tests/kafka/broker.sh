#!/bin/sh
# A single-node Apache Kafka broker in KRaft mode for the tests, on loopback.
#
#   tests/kafka/broker.sh fetch              fetch Kafka's jars once into the cache
#   tests/kafka/broker.sh start DIR PORT     format DIR (once) and start a broker on
#                                            127.0.0.1:PORT, controller on PORT+1;
#                                            returns when it serves metadata
#   tests/kafka/broker.sh stop DIR           stop the broker started in DIR
#
# Topics are created on first use with $LIVEGATE_KAFKA_PARTITIONS partitions (3).
# The jars come from Maven Central through tests/kafka/pom.xml; Maven keeps its
# downloads in ~/.m2 and the jars are copied to $LIVEGATE_KAFKA_JARS (default
# ~/.cache/livegate/kafka-VERSION). DIR keeps the data, so a broker stopped and
# started again on the same DIR and PORT keeps its topics.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")
jars=${LIVEGATE_KAFKA_JARS:-${XDG_CACHE_HOME:-$HOME/.cache}/livegate/kafka-$version}
start_timeout=${LIVEGATE_KAFKA_START_TIMEOUT:-90}
partitions=${LIVEGATE_KAFKA_PARTITIONS:-3}

die() {
    echo "kafka broker: $*" >&2
    exit 1
}

fetch() {
    if [ -f "$jars/kafka_2.13-$version.jar" ]; then
        return 0
    fi
    command -v mvn >/dev/null 2>&1 || die "mvn not found: run scripts/setup.sh --test (Debian package maven)"
    echo "kafka broker: fetching Apache Kafka $version jars into $jars"
    mkdir -p "$jars.tmp"
    mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -Dmdep.includeScope=runtime \
        -DoutputDirectory="$jars.tmp" || die "mvn could not fetch Apache Kafka $version (see the output above)"
    rm -rf "$jars"
    mv "$jars.tmp" "$jars"
}

write_properties() {
    dir=$1
    port=$2
    controller=$((port + 1))
    cat > "$dir/server.properties" <<PROPERTIES
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.partitions=$partitions
auto.create.topics.enable=true
PROPERTIES
}

java_run() {
    exec java -Xms128m -Xmx512m -XX:+UseSerialGC -cp "$jars/*" "$@"
}

format() {
    dir=$1
    [ -f "$dir/data/meta.properties" ] && return 0
    cluster=$( (java_run kafka.tools.StorageTool random-uuid) 2>/dev/null | tail -n 1)
    (java_run kafka.tools.StorageTool format --standalone -t "$cluster" -c "$dir/server.properties") \
        > "$dir/format.log" 2>&1 || die "formatting $dir failed: $(tail -n 5 "$dir/format.log")"
}

# Wait until a metadata request lists this broker.
wait_ready() {
    dir=$1
    port=$2
    waited=0
    while ! kcat -b "127.0.0.1:$port" -L -m 2 2>/dev/null | grep -q "broker 1 at 127.0.0.1:$port"; do
        if ! kill -0 "$(cat "$dir/broker.pid")" 2>/dev/null; then
            die "the broker exited during start: $(tail -n 20 "$dir/broker.log")"
        fi
        waited=$((waited + 1))
        if [ "$waited" -gt $((start_timeout * 2)) ]; then
            stop "$dir"
            die "the broker did not serve metadata on 127.0.0.1:$port within ${start_timeout}s"
        fi
        sleep 0.5
    done
}

start() {
    dir=$1
    port=$2
    command -v java >/dev/null 2>&1 || die "java not found: run scripts/setup.sh --test"
    command -v kcat >/dev/null 2>&1 || die "kcat not found: run scripts/setup.sh --test"
    fetch
    mkdir -p "$dir"
    write_properties "$dir" "$port"
    format "$dir"
    # The subshell becomes java (exec), so $! is the broker's own pid.
    (java_run kafka.Kafka "$dir/server.properties") >> "$dir/broker.log" 2>&1 &
    echo $! > "$dir/broker.pid"
    wait_ready "$dir" "$port"
}

stop() {
    dir=$1
    [ -f "$dir/broker.pid" ] || return 0
    pid=$(cat "$dir/broker.pid")
    kill "$pid" 2>/dev/null || true
    waited=0
    while kill -0 "$pid" 2>/dev/null; do
        waited=$((waited + 1))
        if [ "$waited" -gt 60 ]; then
            kill -9 "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.5
    done
    rm -f "$dir/broker.pid"
}

case "${1:-}" in
    fetch) fetch ;;
    start) [ $# -eq 3 ] || die "usage: $0 start DIR PORT"; start "$2" "$3" ;;
    stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
    *) die "usage: $0 fetch | start DIR PORT | stop DIR" ;;
esac
