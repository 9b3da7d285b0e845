#!/usr/bin/env bash
# bench/lorawan.sh BUILD_DIR: the LoRaWAN end-to-end benchmark. UDP gateways in -> `tinyedge serve`
# (dedup -> MIC/FCnt -> decrypt -> CayenneLPP decode -> TTS v3 JSON) -> MQTT subscriber out, driven
# by te_lw_load (bench/lorawan/). Server pinned to CPU 0, load generator to CPU 1, 127.0.0.1 only,
# free ports, a fresh copy of a pre-registered device registry for every run (FCnts start at 0).
#   A  throughput: 10,000 ABP devices, 3 gateways hear every uplink, as fast as the server acks
#   B  latency at 2,000 uplinks/s, 3 gateways, the default 200 ms dedup window (raw and minus window)
#   B0 latency at 2,000 uplinks/s, 1 gateway, --lorawan-dedup-ms 0 (the processing path alone)
#   C  memory: 100,000 registered devices, RSS after loading and after a short run
# Prints a table with the goals next to the figures. No peer comparison: ChirpStack and The Things
# Stack are not Debian packages, so nothing else runs here. Builds nothing (`make bench` does).
#
# Environment: TE_LW_DURATION (s of load in A, B, B0; default 10), TE_LW_DEVICES (10000),
# TE_LW_MEM_DEVICES (100000), TE_LW_RATE (latency scenarios' rate, 2000), TE_LW_ONLY (e.g. "a c"),
# TE_LW_REPEAT (runs of A, B, B0; the table shows medians; default 1), TE_LW_KEEP=1 (keep the work
# dir: registries, server logs, JSON lines), TE_BENCH_NO_PRIORITY=1.
set -uo pipefail

BUILD=${1:-build/release}
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "bench/lorawan: no build directory '$1'" >&2; exit 2; }
LOAD="$BUILD/te_lw_load"
TE="$BUILD/tinyedge"
PY=/usr/bin/python3
[ -x "$LOAD" ] || { echo "bench/lorawan: $LOAD not built" >&2; exit 2; }
[ -x "$TE" ] || { echo "bench/lorawan: $TE not built" >&2; exit 2; }

# a session of our own with a raised priority (bench/common.sh)
source "$(dirname "$0")/common.sh"
bench_own_session TE_LW_INNER "$0" "$@"

DUR=${TE_LW_DURATION:-10}
NDEV=${TE_LW_DEVICES:-10000}
NMEM=${TE_LW_MEM_DEVICES:-100000}
RATE=${TE_LW_RATE:-2000}
ONLY=${TE_LW_ONLY:-}
REPEAT=${TE_LW_REPEAT:-1}
WORK=$(mktemp -d /tmp/te-lwbench.XXXXXX)
RESULTS="$WORK/results.jsonl"
SPID=""

cleanup() {
  if [ -n "$SPID" ]; then kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; fi
  if [ -n "${TE_LW_KEEP:-}" ]; then echo "bench/lorawan: work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

if [ "$(nproc)" -ge 2 ]; then PIN_S="taskset -c 0"; PIN_L="taskset -c 1"; else PIN_S=""; PIN_L=""; fi
wanted() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }
free_port() { # tcp|udp
  "$PY" -c 'import socket,sys; s=socket.socket(type=socket.SOCK_DGRAM if sys.argv[1]=="udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' "$1"
}
metric() { curl -s --max-time 3 "http://127.0.0.1:$HPORT/metrics" 2>/dev/null | awk -v k="$1" '$1==k{print $2}'; }

# register N: a pristine registry with N devices in $WORK/reg-N (copied for every run)
register() {
  local dir="$WORK/reg-$1"
  [ -f "$dir/lorawan.db" ] && return 0
  $PIN_L "$LOAD" register --data-dir "$dir" --devices "$1" >"$WORK/register-$1.json" 2>"$WORK/register-$1.err" || {
    echo "bench/lorawan: registering $1 devices failed: $(cat "$WORK/register-$1.err")" >&2; return 1; }
}

# start_server NAME NDEV EXTRA...: fresh data dir from reg-NDEV; sets SPID PORT HPORT UPORT, LOADED_S
start_server() {
  local name=$1 n=$2; shift 2
  local data="$WORK/data-$name"
  rm -rf "$data"; cp -r "$WORK/reg-$n" "$data"
  PORT=$(free_port tcp); HPORT=$(free_port tcp); UPORT=$(free_port udp)
  local t0; t0=$(date +%s%N)
  $PIN_S "$TE" serve --data-dir "$data" --bind 127.0.0.1 --mqtt-port "$PORT" --http-port "$HPORT" \
    --udp-port "$UPORT" --log-level notice "$@" >"$WORK/server-$name.log" 2>&1 &
  SPID=$!
  for _ in $(seq 600); do  # up to 60 s: the registry is loaded before the listeners open
    kill -0 "$SPID" 2>/dev/null || { SPID=""; return 1; }
    [ "$(metric tinyedge_lorawan_devices)" = "$n" ] && { LOADED_MS=$((($(date +%s%N) - t0) / 1000000)); return 0; }
    sleep 0.1
  done
  return 1
}

stop_server() {
  [ -n "$SPID" ] || return 0
  kill "$SPID" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SPID" 2>/dev/null
  wait "$SPID" 2>/dev/null
  SPID=""
}

# record ID JSON-from-te_lw_load extra-json-members: one line in $RESULTS
record() {
  local id=$1 json=$2 extra=$3
  [ -n "$json" ] || json='{"ok":false,"error":"load generator failed (see load.err)"}'
  "$PY" -c 'import json,sys
d = json.loads(sys.argv[2]); d["scenario"] = sys.argv[1]; d.update(json.loads(sys.argv[3])); print(json.dumps(d))' \
    "$id" "$json" "$extra" >>"$RESULTS"
}

server_counters() { # -> JSON members with the server's own view
  local up pub rss dg
  up=$(metric tinyedge_lorawan_uplinks_total); pub=$(metric tinyedge_lorawan_published_total)
  dg=$(metric tinyedge_lorawan_datagrams_total); rss=$(metric process_resident_memory_bytes)
  echo "{\"srv_uplinks\":${up:-null},\"srv_published\":${pub:-null},\"srv_datagrams\":${dg:-null},\"srv_rss_bytes\":${rss:-null}}"
}

# scenario ID NDEV SERVER-ARGS -- LOAD-ARGS
run_load() {
  local id=$1 n=$2; shift 2
  local sargs=() largs=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do sargs+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  largs=("$@")
  if ! start_server "$id" "$n" "${sargs[@]}"; then
    record "$id" '{"ok":false,"error":"server did not start (see its log)"}' '{}'
    stop_server; return
  fi
  local out
  out=$($PIN_L "$LOAD" run --udp-port "$UPORT" --mqtt-port "$PORT" --devices "$n" --server-pid "$SPID" \
        --label "$id" --json-only "${largs[@]}" 2>>"$WORK/load.err" | tail -1)
  local c; c=$(server_counters)
  kill -0 "$SPID" 2>/dev/null || c='{"server_died":true}'
  stop_server
  record "$id" "$out" "$c"
}

echo "bench/lorawan: tinyedge $("$TE" --version 2>/dev/null | head -1); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench/lorawan: server on CPU 0, te_lw_load on CPU 1; work dir $WORK"
echo "bench/lorawan: no peer comparison: ChirpStack and The Things Stack are not Debian packages"

if wanted a || wanted b || wanted b0; then register "$NDEV" || exit 1; fi
if wanted a; then
  echo "bench/lorawan: A  throughput, $NDEV devices, 3 gateways, max rate, ${DUR} s ..."
  for _ in $(seq "$REPEAT"); do
    run_load a "$NDEV" -- --gateways 3 --rate 0 --duration "$DUR" --dedup-ms 200
  done
fi
if wanted b; then
  echo "bench/lorawan: B  latency, $RATE uplinks/s, 3 gateways, dedup window 200 ms, ${DUR} s ..."
  for _ in $(seq "$REPEAT"); do
    run_load b "$NDEV" --lorawan-dedup-ms 200 -- --gateways 3 --rate "$RATE" --duration "$DUR" --dedup-ms 200
  done
fi
if wanted b0; then
  echo "bench/lorawan: B0 latency, $RATE uplinks/s, 1 gateway, dedup window 0 ms, ${DUR} s ..."
  for _ in $(seq "$REPEAT"); do
    run_load b0 "$NDEV" --lorawan-dedup-ms 0 -- --gateways 1 --rate "$RATE" --duration "$DUR" --dedup-ms 0
  done
fi
if wanted c; then
  echo "bench/lorawan: C  memory, $NMEM devices registered ..."
  if register "$NMEM"; then
    if start_server c "$NMEM"; then
      sleep 2  # let the first change-log poll and session flush settle
      idle_rss=$(metric process_resident_memory_bytes)
      out=$($PIN_L "$LOAD" run --udp-port "$UPORT" --mqtt-port "$PORT" --devices "$NMEM" --server-pid "$SPID" \
            --label c --json-only --gateways 3 --rate "$RATE" --duration 5 --dedup-ms 200 2>>"$WORK/load.err" | tail -1)
      sleep 1
      cnt=$(server_counters)
      kill -0 "$SPID" 2>/dev/null || cnt='{"server_died":true}'
      stop_server
      record c "$out" "$("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); d["idle_rss_bytes"]=int(sys.argv[2] or 0) or None
d["load_s"]=int(sys.argv[3]) / 1000; print(json.dumps(d))' "$cnt" "${idle_rss:-}" "${LOADED_MS:-0}")"
    else
      stop_server
      record c '{"ok":false,"error":"server did not start with the large registry (see its log)"}' '{}'
    fi
  else
    record c '{"ok":false,"error":"registering the devices failed"}' '{}'
  fi
fi

"$PY" - "$RESULTS" "$RATE" "$NDEV" "$NMEM" <<'EOF'
import json, sys
runs = {}
for l in open(sys.argv[1]):
    if l.strip():
        d = json.loads(l); runs.setdefault(d["scenario"], []).append(d)
rows = {}
for sc, rs in runs.items():  # TE_LW_REPEAT > 1: the median of every figure over the complete runs
    good = [r for r in rs if "sent" in r]
    if len(good) < 2:
        rows[sc] = good[0] if good else rs[-1]; continue
    m = dict(good[0])
    for k, v in good[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            vals = sorted(r[k] for r in good if isinstance(r.get(k), (int, float)))
            m[k] = vals[len(vals) // 2]
    m["errors"] = sum(r.get("errors") or 0 for r in good)
    m["server_died"] = any(r.get("server_died") for r in rs)
    m["runs"] = len(good)
    rows[sc] = m
rate, ndev, nmem = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def f(v, nd=2):
    if v is None or (isinstance(v, (int, float)) and v < 0): return "-"
    if isinstance(v, float): return f"{v:,.{nd}f}" if abs(v) < 100 else f"{v:,.0f}"
    return f"{v:,}"
def mb(b): return None if b is None else b / 1048576
def kb_mb(r): return r["server_rss_max_kb"] / 1024 if r.get("server_rss_max_kb", -1) > 0 else None
out = ["| scenario | figure | measured | goal | verdict |", "|---|---|---:|---:|---|"]
def row(sc, label, text, goal="", v=None, g=None, lower=True):
    verdict = ""
    if g is not None and v is not None and v >= 0:
        verdict = "met" if (v < g if lower else v >= g) else "NOT met"
    out.append(f"| {sc} | {label} | {text} | {goal} | {verdict} |")
for sc in ("a", "b", "b0", "c"):
    r = rows.get(sc)
    if not r: continue
    S = sc.upper()
    if "sent" not in r:
        row(S, "FAILED: " + str(r.get("error", "?")), "", ""); continue
    if r.get("server_died"): row(S, "SERVER DIED during the run", "", "")
    if sc == "a":
        row(S, f"unique uplinks/s on MQTT ({ndev:,} devices, 3 gateways, max rate)", f(r.get("recv_per_s")),
            ">= 20,000", r.get("recv_per_s"), 20000, False)
        row(S, "uplinks/s sent (x 3 PUSH_DATA)", f(r.get("sent_per_s")))
        row(S, "lost %", f(r.get("loss_pct"), 3))
        row(S, "latency p50 / p99 ms minus the 200 ms window",
            f"{f(r.get('after_window_p50_ms'))} / {f(r.get('after_window_p99_ms'))}")
    if sc in ("b", "b0"):
        what = f"{rate:,}/s, 3 gateways, dedup 200 ms" if sc == "b" else f"{rate:,}/s, 1 gateway, dedup 0 ms"
        row(S, f"unique uplinks/s on MQTT ({what})", f(r.get("recv_per_s")))
        row(S, "lost %", f(r.get("loss_pct"), 3))
        row(S, "latency p50 / p90 ms, raw", f"{f(r.get('lat_p50_ms'))} / {f(r.get('lat_p90_ms'))}")
        if sc == "b":
            row(S, "latency p99 ms, raw (includes the 200 ms dedup hold)", f(r.get("lat_p99_ms")))
            row(S, "latency p99 ms minus the 200 ms window", f(r.get("after_window_p99_ms")), "< 5",
                r.get("after_window_p99_ms"), 5)
            row(S, "latency max ms minus the window", f(r.get("after_window_max_ms")))
        else:
            row(S, "latency p99 ms (no window: the processing path)", f(r.get("lat_p99_ms")), "< 5",
                r.get("lat_p99_ms"), 5)
            row(S, "latency max ms", f(r.get("lat_max_ms")))
        row(S, "load generator behind schedule, max ms", f(r.get("sender_lag_max_ms")))
    if sc == "c":
        row(S, f"RSS MB, {nmem:,} devices loaded, idle (/metrics)", f(mb(r.get("idle_rss_bytes")), 1), "< 50",
            mb(r.get("idle_rss_bytes")), 50)
        row(S, f"RSS MB after 5 s at {rate:,}/s over them (/metrics)", f(mb(r.get("srv_rss_bytes")), 1), "< 50",
            mb(r.get("srv_rss_bytes")), 50)
        row(S, "RSS MB max during that run (/proc)", f(kb_mb(r), 1))
        row(S, "s from start to all devices loaded", f(r.get("load_s")))
    else:
        row(S, "server CPU % / load generator CPU %",
            f"{f(r.get('server_cpu_pct'), 0)} / {f(r.get('loadgen_cpu_pct'), 0)}")
        row(S, "server RSS MB, max", f(kb_mb(r), 1))
    if r.get("runs"): row(S, "runs (figures are medians)", str(r["runs"]))
    chk = " / ".join(f(r.get(k)) for k in ("sent", "received_unique", "srv_published", "srv_uplinks"))
    row(S, "check: sent / received unique / server published / server uplinks", chk, "",
        None)
    if r.get("errors") or r.get("duplicates"):
        row(S, "ERRORS (bad messages, send errors) / duplicates", f"{r.get('errors')} / {r.get('duplicates')}")
print("\n".join(out))
print("raw latency: first PUSH_DATA sent -> MQTT message read by the subscriber (one clock, one machine).")
print("The server holds every uplink for its dedup window on purpose (B): 'minus the window' and B0 (no")
print("window, one gateway) show the processing path itself. No peer comparison: ChirpStack and The")
print("Things Stack are not Debian packages.")
EOF
cp "$RESULTS" "$BUILD/bench-lorawan-results.jsonl" 2>/dev/null && echo "bench/lorawan: JSON lines in $BUILD/bench-lorawan-results.jsonl"
