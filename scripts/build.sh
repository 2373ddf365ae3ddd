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
    # libtoolize fills m4/, but aclocal runs first and warns when it is missing.
    mkdir -p m4
    autoreconf -fi >/dev/null
fi

mkdir -p "$dir"
cd "$dir"
if [ ! -f Makefile ]; then
    echo "build: configuring $dir ($flags)"
    # configure's own clean-up tries "rm -f core" on the core/ folder; its
    # output is kept in configure.out and shown only when configure fails.
    # shellcheck disable=SC2086
    if ! ../configure -q $flags >configure.out 2>&1; then
        cat configure.out >&2
        exit 1
    fi
fi
make -j"$(nproc)" >/dev/null
echo "build: $top/$dir/livegate is ready"
