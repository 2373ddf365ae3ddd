#!/bin/sh
# Run every test: install what is missing, build, run the unit tests, the web
# library's tests (Vitest) and the integration and browser tests against the real
# binary, then run the unit and integration tests again with AddressSanitizer and
# UndefinedBehaviorSanitizer. Exits non-zero when
# any test fails and ends with one summary line.
#
# Usage: scripts/test.sh
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
failed=""
passed_count=0
failed_count=0

step() {
    name=$1
    shift
    echo
    echo "== $name"
    if "$@"; then
        echo "== $name: ok"
        passed_count=$((passed_count + 1))
    else
        echo "== $name: FAILED"
        failed="$failed [$name]"
        failed_count=$((failed_count + 1))
    fi
}

unit_tests() {
    make -C "$1" -j"$(nproc)" check >"$1/unit-tests.log" 2>&1
    rc=$?
    grep -E '^(PASS|FAIL|ERROR|# [A-Z]+:)' "$1/unit-tests.log"
    if [ $rc -ne 0 ]; then
        cat "$1"/tests/unit/*.log 2>/dev/null | grep -v '^\[ *\(OK\|RUN\) *\]' | tail -60
    fi
    return $rc
}

# Runs Vitest in web/ and prints its summary lines ("Tests  N passed (N)").
web_tests() {
    (cd web && npx vitest run --reporter=dot >"$top/tests/artifacts/vitest.log" 2>&1)
    rc=$?
    sed 's/\x1b\[[0-9;]*m//g' tests/artifacts/vitest.log | grep -E '^ *(Test Files|Tests|FAIL|×)' 
    [ $rc -ne 0 ] && sed 's/\x1b\[[0-9;]*m//g' tests/artifacts/vitest.log | tail -60
    return $rc
}

web_build() {
    (cd web && npm run --silent build >"$top/tests/artifacts/web-build.log" 2>&1)
    rc=$?
    [ $rc -ne 0 ] && tail -40 tests/artifacts/web-build.log
    return $rc
}

node_tests() {
    build_dir=$1
    shift
    LIVEGATE_BUILD_DIR="$top/$build_dir" node --test --test-reporter=spec "$@"
}

scripts/setup.sh --test || exit 1
mkdir -p tests/artifacts

step "build" scripts/build.sh
step "unit tests" unit_tests build
step "web tests (vitest)" web_tests
step "web build" web_build
step "integration tests" node_tests build tests/integration/*.test.mjs
step "browser tests" node_tests build tests/browser/*.test.mjs

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
step "sanitizer build" scripts/build.sh --sanitizers
step "unit tests (sanitizers)" unit_tests build-asan
export LIVEGATE_SANITIZERS=1
step "integration tests (sanitizers)" node_tests build-asan tests/integration/*.test.mjs

echo
echo "Steps:"
echo "$passed_count passed, $failed_count failed"
if [ -n "$failed" ]; then
    echo "test: failed steps: $failed"
    exit 1
fi
