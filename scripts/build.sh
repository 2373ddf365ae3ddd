#!/bin/sh
# Configure and build livegate out of tree: build/ normally, build-asan/ with
# AddressSanitizer and UndefinedBehaviorSanitizer. Reconfigures only when needed.
#
# Usage: scripts/build.sh [--sanitizers]
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
dir=build
flags="--enable-werror"
if [ "${1:-}" = "--sanitizers" ]; then
    dir=build-asan
    flags="$flags --enable-sanitizers"
fi

cd "$top"
if [ ! -x configure ] || [ configure.ac -nt configure ]; then
    echo "build: generating configure (autoreconf)"
    autoreconf -fi >/dev/null
fi

mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ]; then
    echo "build: configuring $dir ($flags)"
    # shellcheck disable=SC2086
    ../configure -q $flags
fi
make -j"$(nproc)" >/dev/null
echo "build: $top/$dir/livegate is ready"
