# bench/common.sh: sourced by the benchmark scripts.
# bench_own_session VAR SCRIPT ARGS...: re-run SCRIPT in a session of its own (once: VAR marks the
# inner run), whose scheduler autogroup gets nice -20 so that other work on the machine (builds,
# fuzzers) does not steal the measured server's CPU; Ctrl-C is forwarded to the whole session.
# TE_BENCH_NO_PRIORITY=1 skips the priority change.
bench_own_session() {
  local var=$1; shift
  if [ -z "${!var:-}" ]; then
    export "$var"=1
    setsid bash "$@" &
    child=$!
    trap 'kill -TERM -- -$child 2>/dev/null || kill -TERM $child 2>/dev/null' INT TERM
    wait $child
    exit $?
  fi
  if [ -z "${TE_BENCH_NO_PRIORITY:-}" ]; then
    echo -20 2>/dev/null >/proc/self/autogroup || true
    renice -n -10 -p $$ >/dev/null 2>&1 || true
  fi
}
