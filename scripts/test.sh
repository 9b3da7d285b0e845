#!/usr/bin/env bash
# `make test`: unit tests and fuzz smoke (ctest) then integration tests (pytest with real peers),
# all against the ASan/UBSan build in $1. Prints one summary line per suite and a closing total.
set -u
BUILD=${1:-build/asan}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
JOBS=$(nproc)

echo "== unit + fuzz smoke (ctest, ASan/UBSan) =="
(cd "$BUILD" && ctest --output-on-failure -j "$JOBS" --timeout 300) | tee /tmp/te-ctest.log
ctest_rc=${PIPESTATUS[0]}
ctest_line=$(grep -E "tests passed|tests failed" /tmp/te-ctest.log | tail -1)

echo "== integration (pytest, real peers) =="
TE_BIN="$ROOT/$BUILD/tinyedge" /usr/bin/python3 -m pytest -q -p no:cacheprovider "$ROOT/tests/integration" 2>&1 | tee /tmp/te-pytest.log
py_rc=${PIPESTATUS[0]}
py_line=$(grep -E "passed|failed|error" /tmp/te-pytest.log | tail -1)
[ "$py_rc" = 5 ] && py_rc=1  # no tests collected is a failure here

echo
echo "== summary =="
echo "unit+fuzz: ${ctest_line:-no result} (exit $ctest_rc)"
echo "integration: ${py_line:-no result} (exit $py_rc)"
u_pass=$(sed -nE 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2 \1/p; s/.*100% tests passed, 0 tests failed out of ([0-9]+).*/\1 0/p' /tmp/te-ctest.log | tail -1)
u_total=${u_pass%% *}; u_fail=${u_pass##* }
p_pass=$(grep -oE '[0-9]+ passed' /tmp/te-pytest.log | tail -1 | grep -oE '[0-9]+'); p_fail=$(grep -oE '[0-9]+ failed' /tmp/te-pytest.log | tail -1 | grep -oE '[0-9]+')
p_err=$(grep -oE '[0-9]+ error' /tmp/te-pytest.log | tail -1 | grep -oE '[0-9]+')
total_pass=$(( ${u_total:-0} - ${u_fail:-0} + ${p_pass:-0} ))
total_fail=$(( ${u_fail:-0} + ${p_fail:-0} + ${p_err:-0} ))
echo "total: $total_pass passed, $total_fail failed"
[ "$ctest_rc" = 0 ] && [ "$py_rc" = 0 ]
