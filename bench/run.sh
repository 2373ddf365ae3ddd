#!/bin/bash
# Run the fan-out benchmark scenarios against livegate, nginx with the Nchan
# module and the writev ceiling (bench/fanout-ceiling), one server at a time
# on loopback, and print one table with the ratios between them.
#
# Usage: bench/run.sh [--quick] [--only NAME[,NAME...]] [--workers N]
#   --quick    a tenth of the subscribers and events, to try the script
#   --only     run these scenarios only: sse-fanout, ws-fanout, latency,
#              idle, channels
#   --workers  livegate workers and nginx worker processes (default 1, so
#              that the generator keeps the other core of a 2-core machine)
#
# It installs nginx-light and libnginx-mod-nchan with apt-get when nginx or the
# module is missing, builds livegate into build/ with scripts/build.sh, and
# keeps every run's output in build/bench-results/. Servers and the load
# generator run under nice -n 10. Every run is bounded: the generator stops
# by itself (--duration, --drain) and timeout(1) ends it after 180 s.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build"
results="$build/bench-results"
loadgen="$build/bench/loadgen"
ceiling="$build/bench/fanout-ceiling"
nchan_module=/usr/lib/nginx/modules/ngx_nchan_module.so

# Loopback ports of the servers; one server runs at a time.
livegate_port=18180
livegate_admin_port=18181
nchan_port=18182
ceiling_port=18183
ceiling_publish_port=18184

# Events a channel keeps for resuming clients: livegate's history.length and
# Nchan's nchan_message_buffer_length.
buffer_length=100

# The generator stops once no event arrived for this long after publishing.
# A server that queues every event before writing any (livegate with 10,000
# subscribers) stays silent for several seconds, so this is generous.
drain_seconds=15

# Open files: 10,000 subscribers plus the server's own sockets, per process.
fd_limit=20000

quick=0
only=""
workers=1
server_pid=""
server_pids=""

die() {
    echo "run: $*" >&2
    exit 1
}

parse_options() {
    while [ $# -gt 0 ]; do
        case $1 in
        --quick) quick=1 ;;
        --only) only=${2:?--only needs a list of scenarios}; shift ;;
        --workers) workers=${2:?--workers needs a number}; shift ;;
        -h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown option '$1'; see bench/run.sh --help" ;;
        esac
        shift
    done
}

# Install nginx and the Nchan module from Debian's packages when missing.
ensure_nchan() {
    if command -v nginx >/dev/null && [ -f "$nchan_module" ]; then
        return 0
    fi

    echo "run: installing nginx-light and libnginx-mod-nchan with apt-get"
    for package in nginx-light libnginx-mod-nchan; do
        if ! apt-cache policy "$package" | grep -q 'Candidate: [0-9]'; then
            apt-get update -qq || die "apt-get update failed"
        fi
        apt-cache policy "$package" | grep -q 'Candidate: [0-9]' ||
            die "package $package is not available from apt (apt-cache policy $package)"
    done
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light libnginx-mod-nchan >/dev/null ||
        die "apt-get install nginx-light libnginx-mod-nchan failed"
    [ -f "$nchan_module" ] || die "the Nchan module is not at $nchan_module after installing it"
}

raise_fd_limit() {
    local hard

    hard=$(ulimit -Hn)
    if [ "$hard" != unlimited ] && [ "$hard" -lt "$fd_limit" ]; then
        die "the hard open-file limit is $hard; the scenarios need $fd_limit (10,000 subscribers and the server's sockets)"
    fi
    ulimit -n "$fd_limit" || die "ulimit -n $fd_limit failed"
}

# Wait up to 10 s for FILE to contain TEXT; fail when process PID exits first.
wait_for_log() {
    local file=$1 text=$2 pid=$3

    for _ in $(seq 100); do
        grep -q "$text" "$file" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$file" >&2
    die "the server (pid $pid) did not start; its output is above"
}

write_livegate_config() {
    cat >"$1" <<EOF
server:
  listen: 127.0.0.1:$livegate_port
  workers: $workers
  admin:
    listen: 127.0.0.1:$livegate_admin_port
  limits:
    max_connections: 0
    max_streams_per_address: 0
channels:
  - match: "bench.*"
    history: {length: $buffer_length}
    snapshot: none
    publish: true
sinks:
  - type: sse
  - type: websocket
EOF
}

write_nchan_config() {
    local dir=$1

    mkdir -p "$dir/body"
    cat >"$dir/nginx.conf" <<EOF
load_module $nchan_module;
worker_processes $workers;
worker_rlimit_nofile $fd_limit;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
daemon off;
events {
    worker_connections $fd_limit;
}
http {
    access_log off;
    client_body_temp_path $dir/body;
    server {
        listen 127.0.0.1:$nchan_port backlog=4096;
        location = /pub {
            nchan_publisher;
            nchan_channel_id \$arg_id;
            nchan_message_buffer_length $buffer_length;
        }
        location = /sub {
            nchan_subscriber;
            nchan_channel_id \$arg_id;
        }
    }
}
EOF
}

start_livegate() {
    local dir=$1

    write_livegate_config "$dir/livegate.yaml"
    nice -n 10 "$build/livegate" -c "$dir/livegate.yaml" --plugin-dir "$build/modules" >"$dir/server.log" 2>&1 &
    server_pid=$!
    server_pids="--server-pid $server_pid"
    wait_for_log "$dir/server.log" "public listener bound" "$server_pid"
}

start_nchan() {
    local dir=$1 worker_pids

    write_nchan_config "$dir"
    nice -n 10 nginx -c "$dir/nginx.conf" -p "$dir" >"$dir/server.log" 2>&1 &
    server_pid=$!
    wait_for_log "$dir/nginx.pid" "$server_pid" "$server_pid"
    sleep 0.3
    worker_pids=$(pgrep -P "$server_pid")
    [ -n "$worker_pids" ] || die "nginx (pid $server_pid) started no worker process; see $dir/error.log"
    server_pids="--server-pid $server_pid"
    for pid in $worker_pids; do
        server_pids="$server_pids --server-pid $pid"
    done
}

start_ceiling() {
    local dir=$1

    nice -n 10 "$ceiling" --port "$ceiling_port" --publish-port "$ceiling_publish_port" --timeout 300 >"$dir/server.log" 2>&1 &
    server_pid=$!
    server_pids="--server-pid $server_pid"
    wait_for_log "$dir/server.log" "listening" "$server_pid"
}

# Stop the server this script started, by its pid, and wait for it.
stop_server() {
    [ -n "$server_pid" ] || return 0
    kill -TERM "$server_pid" 2>/dev/null
    for _ in $(seq 100); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
}

# Set the array urls to the loadgen options that reach SERVER over TRANSPORT.
set_server_urls() {
    local server=$1 transport=$2
    local livegate_publish="http://127.0.0.1:$livegate_admin_port/api/channels/{channel}/events"

    case $server/$transport in
    livegate/sse)
        urls=(--subscribe-url "http://127.0.0.1:$livegate_port/sse?channel={channel}"
            --publish-url "$livegate_publish" --ready-text "event: subscribed") ;;
    livegate/ws)
        urls=(--subscribe-url "ws://127.0.0.1:$livegate_port/ws" --publish-url "$livegate_publish"
            --ws-subscribe-message '{"op":"subscribe","channel":"{channel}"}' --ready-text '"type":"subscribed"') ;;
    nchan/*)
        urls=(--subscribe-url "${transport/sse/http}://127.0.0.1:$nchan_port/sub?id={channel}"
            --publish-url "http://127.0.0.1:$nchan_port/pub?id={channel}") ;;
    ceiling/*)
        urls=(--subscribe-url "${transport/sse/http}://127.0.0.1:$ceiling_port/sub?id={channel}"
            --publish-url "http://127.0.0.1:$ceiling_publish_port/pub?id={channel}$([ "$transport" = ws ] && echo '&ws=1')") ;;
    esac
}

# The scenarios: name, transport, subscribers, channels, events, rate (0: as
# fast as acknowledged), publish requests in flight.
scenarios() {
    cat <<EOF
sse-fanout sse 10000 1 500 0 4
ws-fanout ws 10000 1 500 0 4
latency sse 1000 1 10000 1000 4
idle sse 10000 1 0 0 1
channels sse 10000 100 20000 0 4
EOF
}

# Run scenario NAME against SERVER once; the generator's output and the
# server's log go to build/bench-results/NAME-SERVER/, the result line to its
# file result.
run_one() {
    local server=$1 name=$2 transport=$3 subscribers=$4 channels=$5 events=$6 rate=$7 publishers=$8
    local dir="$results/$name-$server"
    local urls status

    rm -rf "$dir"
    mkdir -p "$dir"
    "start_$server" "$dir"
    set_server_urls "$server" "$transport"
    # shellcheck disable=SC2086
    timeout 180 nice -n 10 "$loadgen" --transport "$transport" --subscribers "$subscribers" \
        --channels "$channels" --events "$events" --rate "$rate" --publishers "$publishers" \
        --channel-prefix "bench.$name." --duration 30 --drain "$drain_seconds" --hold 3 $server_pids "${urls[@]}" \
        >"$dir/loadgen.out" 2>"$dir/loadgen.err"
    status=$?
    stop_server
    if ! grep '^loadgen:' "$dir/loadgen.out" >"$dir/result"; then
        echo "run: the load generator failed with status $status; see $dir/loadgen.err" >&2
        return 1
    fi
    [ $status -eq 0 ] || echo "run: the load generator exited with status $status; see $dir/loadgen.err" >&2
    cat "$dir/result" >&2
}

# Print the value of KEY in a loadgen result LINE, or - when absent.
value_of() {
    local line=$1 key=$2 value

    value=$(echo "$line" | tr ' ' '\n' | sed -n "s/^$key=//p")
    echo "${value:--}"
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else printf "-" }'
}

print_row() {
    local name=$1 metric=$2 key=$3 better=$4
    local livegate nchan ceiling_value

    livegate=$(value_of "$(cat "$results/$name-livegate/result" 2>/dev/null)" "$key")
    nchan=$(value_of "$(cat "$results/$name-nchan/result" 2>/dev/null)" "$key")
    ceiling_value=$(value_of "$(cat "$results/$name-ceiling/result" 2>/dev/null)" "$key")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" "$metric" "$livegate" "$nchan" "$ceiling_value" \
        "$(ratio "$livegate" "$nchan")" "$(ratio "$livegate" "$ceiling_value")" "$better"
}

print_table() {
    echo
    echo "| scenario | metric | livegate | nchan | ceiling | livegate/nchan | livegate/ceiling | better |"
    echo "|---|---|---|---|---|---|---|---|"
    for name in $(scenarios | cut -d' ' -f1); do
        [ -d "$results/$name-livegate" ] || continue
        case $name in
        latency)
            print_row "$name" "p50 us" p50_us lower
            print_row "$name" "p99 us" p99_us lower
            print_row "$name" "p99.9 us" p999_us lower
            print_row "$name" "delivered/s" events_per_s higher ;;
        idle)
            print_row "$name" "RSS bytes/conn" rss_per_connection_bytes lower ;;
        *)
            print_row "$name" "delivered/s" events_per_s higher
            print_row "$name" "lost events" lost lower
            print_row "$name" "p99 us" p99_us lower
            print_row "$name" "peak RSS KiB" rss_peak_kib lower ;;
        esac
    done
}

print_versions() {
    echo
    echo "livegate $(git -C "$top" rev-parse --short HEAD), $(nginx -v 2>&1 | sed 's/.*version: //')," \
        "nchan $(dpkg-query -W -f '${Version}' libnginx-mod-nchan 2>/dev/null)," \
        "workers $workers, $(nproc) cores, $(date -u +%Y-%m-%d)"
}

main() {
    parse_options "$@"
    raise_fd_limit
    ensure_nchan
    "$top/scripts/build.sh" || die "build failed"
    rm -rf "$results"
    mkdir -p "$results"
    trap stop_server EXIT
    trap 'exit 130' INT TERM

    while read -r name transport subscribers channels events rate publishers; do
        if [ -n "$only" ] && ! echo ",$only," | grep -q ",$name,"; then
            continue
        fi
        if [ "$quick" = 1 ]; then
            subscribers=$((subscribers / 10))
            events=$((events / 10))
        fi
        for server in livegate nchan ceiling; do
            echo "run: $name on $server ($subscribers $transport subscribers, $channels channels," \
                "$events events, rate $rate)" >&2
            run_one "$server" "$name" "$transport" "$subscribers" "$channels" "$events" "$rate" "$publishers"
        done
    done < <(scenarios)

    print_table | tee "$results/table.md"
    print_versions | tee -a "$results/table.md"
}

main "$@"
