#!/bin/sh
# Install what livegate needs on Debian and is missing: build tools, libraries,
# Node.js and the dashboard's Node.js packages (web/, with npm ci) always, test tools
# (Chromium, Redis, kcat, Java and Maven, the test suite's Node.js packages, Apache
# Kafka's jars) with --test. Safe to run again: installed packages are skipped, and
# apt, npm and Maven keep their downloads in their caches.
#
# Usage: scripts/setup.sh [--test]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
with_tests=no
[ "${1:-}" = "--test" ] && with_tests=yes

build_packages="build-essential autoconf automake libtool pkg-config
libevent-dev libyaml-dev libjansson-dev liblua5.4-dev librdkafka-dev
libhiredis-dev libcurl4-openssl-dev libssl-dev libcmocka-dev
libhttp-parser-dev libwslay-dev uthash-dev zlib1g-dev nodejs npm"
test_packages="chromium curl procps openssl redis-server kcat maven openjdk-17-jre-headless"

missing_packages() {
    for package in "$@"; do
        if ! dpkg-query -W -f='${Status}\n' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
            printf '%s\n' "$package"
        fi
    done
}

run_as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "setup: '$*' needs root: run this script as root or install sudo" >&2
        exit 1
    fi
}

packages=$build_packages
[ "$with_tests" = yes ] && packages="$packages $test_packages"
# Node.js may come from elsewhere than Debian (nvm, NodeSource); use it when it is there.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    packages=$(printf '%s\n' $packages | grep -v -x -e nodejs -e npm)
fi

# shellcheck disable=SC2086
missing=$(missing_packages $packages)
if [ -n "$missing" ]; then
    echo "setup: installing Debian packages: $(echo $missing)"
    # The package lists may be stale on a fresh machine: refresh them and retry once.
    # shellcheck disable=SC2086
    if ! run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; then
        run_as_root apt-get update
        # shellcheck disable=SC2086
        run_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing
    fi
fi

# Vite 8, which builds the dashboard, needs Node.js 20.19 or later (22.12 on the 22 line).
node_version=$(node -p 'process.versions.node')
if ! node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19) ? 0 : 1)'; then
    echo "setup: Node.js $node_version is too old for the dashboard build: install Node.js 20.19 or later (22.12 or later on the 22 line)" >&2
    exit 1
fi

if [ ! -d "$top/web/node_modules" ] || [ "$top/web/package-lock.json" -nt "$top/web/node_modules/.package-lock.json" ]; then
    echo "setup: installing the dashboard's Node.js packages (npm ci in web/)"
    (cd "$top/web" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$with_tests" = yes ]; then
    echo "setup: installing the test suite's Node.js packages (npm ci)"
    (cd "$top/tests" && npm ci --no-audit --no-fund --loglevel=error)
    echo "setup: fetching Apache Kafka's jars for the test broker (Maven, cached after the first run)"
    "$top/tests/kafka/broker.sh" fetch
fi
