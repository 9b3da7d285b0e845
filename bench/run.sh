#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: the MQTT broker benchmark. Runs each scenario against Debian's mosquitto and
# against tinyedge's broker in the same run (broker pinned to CPU 0, the te_mqtt_load load generator
# to CPU 1), then prints a table with both figures and the ratio tinyedge/mosquitto. Every load run is
# cross-checked against the broker's own counters (tinyedge: /metrics on a loopback HTTP port;
# mosquitto: $SYS/broker/publish/messages/{received,sent}, sys_interval 1). Builds nothing:
# `make bench` builds build/release first and passes it here. Only 127.0.0.1 is used, on free ports.
#
# Environment: TE_BENCH_DURATION (seconds per scenario, default 5), TE_BENCH_IDLE (idle connections,
# default 10000), TE_BENCH_REPEAT (runs per scenario and broker, alternating; the table shows medians;
# default 1), TE_BENCH_AHEAD (lag bound of the throughput scenarios, messages per publisher, default
# 1000), TE_BENCH_ONLY (space-separated scenario ids, e.g. "a1 d"), TE_BENCH_KEEP=1 (keep
# the work directory with configs, broker logs and JSON lines), TE_BENCH_NO_PRIORITY=1 (do not raise
# the benchmark's scheduling priority).
set -uo pipefail

BUILD=${1:-build/release}
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "bench: no build directory '$1'" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
LOAD="$BUILD/te_mqtt_load"
TE="$BUILD/tinyedge"
MOSQ=/usr/sbin/mosquitto
MOSQ_SUB=/usr/bin/mosquitto_sub
PY=/usr/bin/python3
[ -x "$LOAD" ] || { echo "bench: $LOAD not built" >&2; exit 2; }
[ -x "$MOSQ" ] || { echo "bench: $MOSQ missing (apt-get install mosquitto)" >&2; exit 2; }

# a session of our own with a raised priority (bench/common.sh)
source "$(dirname "$0")/common.sh"
bench_own_session TE_BENCH_INNER "$0" "$@"

DUR=${TE_BENCH_DURATION:-5}
IDLE=${TE_BENCH_IDLE:-10000}
ONLY=${TE_BENCH_ONLY:-}
REPEAT=${TE_BENCH_REPEAT:-1}
WORK=$(mktemp -d /tmp/te-bench.XXXXXX)
RESULTS="$WORK/results.jsonl"
BPID=""

cleanup() {
  if [ -n "$BPID" ]; then kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null; fi
  if [ -n "${TE_BENCH_KEEP:-}" ]; then echo "bench: work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# 10,000 idle connections need as many descriptors in the broker and in the load generator.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
NOFILE=$(ulimit -n)
if [ "$NOFILE" != unlimited ] && [ "$NOFILE" -lt $((IDLE + 200)) ]; then
  IDLE=$((NOFILE - 200))
  echo "bench: open-file limit is $NOFILE; idle scenario reduced to $IDLE connections"
fi

if [ "$(nproc)" -ge 2 ]; then PIN_B="taskset -c 0"; PIN_L="taskset -c 1"; else PIN_B=""; PIN_L=""; fi

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

write_conf() { # port -> config path; the same settings for both brokers
  local conf="$WORK/broker-$1.conf"
  cat >"$conf" <<EOF
# written by bench/run.sh; read by mosquitto and by tinyedge broker -c
listener $1 127.0.0.1
allow_anonymous true
persistence false
max_connections -1
max_inflight_messages 100
max_queued_messages 100000
max_queued_bytes 0
set_tcp_nodelay true
sys_interval 1
EOF
  echo "$conf"
}

# start_broker NAME: sets BPID, PORT and HPORT (tinyedge's /metrics), or returns 1 when the broker
# cannot be started
start_broker() {
  local name=$1 conf log try
  PORT=$(free_port)
  HPORT=$(free_port)
  conf=$(write_conf "$PORT")
  log="$WORK/$name-$PORT.log"
  for try in 1 2; do
    case "$name:$try" in
      mosquitto:1) $PIN_B "$MOSQ" -c "$conf" >"$log" 2>&1 & ;;
      mosquitto:2) return 1 ;;
      tinyedge:1) [ -x "$TE" ] || return 1
                  $PIN_B "$TE" broker -c "$conf" --bind 127.0.0.1 --http-port "$HPORT" >"$log" 2>&1 & ;;
      tinyedge:2) $PIN_B "$TE" broker -p "$PORT" --bind 127.0.0.1 --http-port "$HPORT" >>"$log" 2>&1 & ;;
    esac
    BPID=$!
    for _ in $(seq 50); do
      port_open "$PORT" && return 0
      kill -0 "$BPID" 2>/dev/null || break
      sleep 0.1
    done
    kill "$BPID" 2>/dev/null; wait "$BPID" 2>/dev/null; BPID=""
  done
  return 1
}

stop_broker() {
  [ -n "$BPID" ] || return 0
  kill "$BPID" 2>/dev/null
  for _ in $(seq 30); do kill -0 "$BPID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$BPID" 2>/dev/null
  wait "$BPID" 2>/dev/null
  BPID=""
}

# scenario ID "description" load-generator-args...
SCEN_IDS=()
declare -A SCEN_DESC SCEN_ARGS
scenario() { SCEN_IDS+=("$1"); SCEN_DESC[$1]=$2; shift 2; SCEN_ARGS[${SCEN_IDS[-1]}]="$*"; }

# Throughput scenarios flood with a bounded lag: a publisher may be at most AHEAD messages ahead of
# the slowest subscriber that gets its messages (see docs/benchmarks.md, "The throughput metric").
AHEAD=${TE_BENCH_AHEAD:-1000}
scenario a1 "QoS 0 fan-in 10->1, 32 B, flood (<=$AHEAD msgs/publisher ahead)" \
  --pubs 10 --subs 1 --size 32 --duration "$DUR" --max-ahead "$AHEAD"
scenario a2 "QoS 0 fan-in 10->1, 256 B, flood (<=$AHEAD msgs/publisher ahead)" \
  --pubs 10 --subs 1 --size 256 --duration "$DUR" --max-ahead "$AHEAD"
scenario a3 "QoS 0 fan-in 10->1, 32 B, burst of 10 x 20,000 msgs, no backpressure" \
  --pubs 10 --subs 1 --size 32 --count 20000 --drain 30 --quiet-after 2
scenario b "QoS 0 fan-out 1->100, 32 B, flood (<=$AHEAD msgs ahead of the slowest subscriber)" \
  --pubs 1 --subs 100 --size 32 --duration "$DUR" --max-ahead "$AHEAD"
scenario c "QoS 1 fan-in 10->1, 32 B, flood, window 100/publisher, <=$AHEAD msgs/publisher ahead" \
  --pubs 10 --subs 1 --qos 1 --size 32 --duration "$DUR" --window 100 --max-ahead "$AHEAD"
scenario c2 "QoS 1 fan-in 10->1, 32 B, window 100/publisher, publishers unbounded (queue growth)" \
  --pubs 10 --subs 1 --qos 1 --size 32 --duration "$DUR" --window 100
scenario d "QoS 0 latency, 10->1, 32 B, 20,000 msg/s total" \
  --pubs 10 --subs 1 --size 32 --duration "$DUR" --rate 20000 --busy-poll
scenario e "$IDLE idle connections (keepalive 60)" \
  --idle "$IDLE" --hold 1

wanted() { [ -z "$ONLY" ] || [[ " $ONLY " == *" $1 "* ]]; }

# broker_counters NAME SYSFILE: prints "received sent" (PUBLISH packets, the broker's own count) or
# "- -". mosquitto publishes its $SYS counters only when they change, once per sys_interval (1 s):
# the last value a $SYS subscriber got after the run settled is the final one.
broker_counters() {
  local name=$1 sysf=$2 rx=- tx=-
  if [ "$name" = tinyedge ]; then
    local m
    m=$(curl -s --max-time 3 "http://127.0.0.1:$HPORT/metrics" 2>/dev/null)
    rx=$(awk '$1=="tinyedge_mqtt_messages_received_total"{print $2}' <<<"$m")
    tx=$(awk '$1=="tinyedge_mqtt_messages_sent_total"{print $2}' <<<"$m")
  elif [ -s "$sysf" ]; then
    rx=$(awk '$1=="$SYS/broker/publish/messages/received"{v=$2} END{print v}' "$sysf")
    tx=$(awk '$1=="$SYS/broker/publish/messages/sent"{v=$2} END{print v}' "$sysf")
  fi
  echo "${rx:--} ${tx:--}"
}

# run_one ID BROKER: appends one JSON line (with "scenario", "broker" and the broker's own counters
# "broker_received" / "broker_sent") to $RESULTS
run_one() {
  local id=$1 name=$2 out sysf="$WORK/sys-$1-$2.txt" spid="" counters
  if ! start_broker "$name"; then
    local why="did not start (see its log)"
    [ "$name" = tinyedge ] && [ ! -x "$TE" ] && why="not available"
    echo "{\"scenario\":\"$id\",\"broker\":\"$name\",\"ok\":false,\"error\":\"$why\"}" >>"$RESULTS"
    return
  fi
  if [ "$name" = mosquitto ] && [ -x "$MOSQ_SUB" ]; then
    # shellcheck disable=SC2016
    $PIN_L "$MOSQ_SUB" -h 127.0.0.1 -p "$PORT" -v -t '$SYS/broker/publish/messages/received' \
      -t '$SYS/broker/publish/messages/sent' >"$sysf" 2>/dev/null &
    spid=$!
  fi
  # shellcheck disable=SC2086
  out=$($PIN_L "$LOAD" --port "$PORT" --broker-pid "$BPID" --label "$id/$name" --json-only \
        ${SCEN_ARGS[$id]} 2>>"$WORK/load.err" | tail -1)
  if [ -n "$spid" ]; then sleep 2.2; kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; fi
  counters=$(broker_counters "$name" "$sysf")
  stop_broker
  [ -n "$out" ] || out='{"ok":false,"error":"load generator failed"}'
  echo "$out" | "$PY" -c '
import json, sys
d = json.loads(sys.stdin.read())
d["scenario"], d["broker"] = sys.argv[1], sys.argv[2]
for k, v in zip(("broker_received", "broker_sent"), sys.argv[3].split()):
    d[k] = int(v) if v.isdigit() else None
print(json.dumps(d))' "$id" "$name" "$counters" >>"$RESULTS"
}

MOSQ_VER=$("$MOSQ" -h 2>/dev/null | head -1)
TE_VER="absent"
if [ -x "$TE" ]; then TE_VER=$("$TE" --version 2>/dev/null | head -1); TE_VER=${TE_VER:-present}; fi
echo "bench: $MOSQ_VER; tinyedge: $TE_VER; $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: brokers on CPU 0, load generator on CPU 1; ${DUR} s per scenario; work dir $WORK"

for id in "${SCEN_IDS[@]}"; do
  wanted "$id" || continue
  printf 'bench: %-3s %s ...' "$id" "${SCEN_DESC[$id]}"
  for _ in $(seq "$REPEAT"); do
    for b in mosquitto tinyedge; do run_one "$id" "$b"; printf ' %s' "$b"; done
  done
  echo
done

# The table: one row per (scenario, metric); ratio = tinyedge / mosquitto.
"$PY" - "$RESULTS" "$MOSQ_VER" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
runs = {}
for r in rows:
    runs.setdefault((r.get("scenario"), r.get("broker")), []).append(r)
res = {}
for k, rs in runs.items():  # with TE_BENCH_REPEAT > 1: the median of each figure over the good runs
    good = [r for r in rs if r.get("ok")]
    if not good:
        res[k] = rs[-1]
        continue
    merged = dict(good[0])
    for key, v in good[0].items():
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            vals = sorted(r[key] for r in good if isinstance(r.get(key), (int, float)))
            merged[key] = vals[len(vals) // 2]
    res[k] = merged
tput = [("delivered_per_s", "delivered msg/s (first to last delivery)", "hi"), ("loss_pct", "loss %", "lo"),
        ("reordered", "reordered", "lo"), ("lat_p50_us", "latency p50 us", "lo"),
        ("broker_cpu_pct", "broker CPU %", "-"), ("loadgen_cpu_pct", "load generator CPU %", "-"),
        ("loadgen_core_irq_pct", "irq+softirq % on the load generator's core", "-")]
metrics = {  # scenario -> [(key, label, better)]
    "a1": tput,
    "a2": tput,
    "a3": [("delivered_per_s", "delivered msg/s (first to last delivery)", "hi"),
           ("recv_s", "s from first publish to last delivery", "lo"),
           ("loss_pct", "loss %", "lo"), ("reordered", "reordered", "lo")],
    "b":  [("delivered_per_s", "deliveries/s, all subscribers", "hi")] + tput[1:],
    "c":  tput[:2] + [("lost", "PUBACKed but not delivered", "lo")] + tput[3:],
    "c2": [("delivered_per_s", "delivered msg/s (first to last delivery)", "hi"), ("acked", "PUBACKed msgs", "hi"),
           ("lost", "PUBACKed but not delivered", "lo"), ("lat_p50_us", "latency p50 us", "lo")],
    "d":  [("lat_p50_us", "latency p50 us", "lo"), ("lat_p99_us", "latency p99 us", "lo"),
           ("broker_cpu_pct", "broker CPU %", "lo")],
    "e":  [("kb_per_conn", "broker kB per connection", "lo"), ("connect_s", "time to connect all, s", "lo")],
}
common = [("broker_rss_max_kb", "broker RSS max kB", "lo"), ("check", "check: delivered / broker sent / broker received", "-")]
def fmt(v):
    if v is None: return "-"
    if isinstance(v, str): return v
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"
    return f"{v:,}"
out = []
out.append(f"| scenario | metric | mosquitto | tinyedge | tinyedge/mosquitto |")
out.append("|---|---|---:|---:|---:|")
def check(r):  # the load generator's deliveries against the broker's own PUBLISH counters
    if not r or not r.get("ok"): return None
    return "%s / %s / %s" % tuple(fmt(r.get(k)) for k in ("received", "broker_sent", "broker_received"))
for r in res.values():
    if r.get("ok") and r.get("mode") == "load": r["check"] = check(r)
for sc in ["a1", "a2", "a3", "b", "c", "c2", "d", "e"]:
    m, t = res.get((sc, "mosquitto")), res.get((sc, "tinyedge"))
    if not m and not t: continue
    for key, label, better in metrics[sc] + (common if sc != "e" else []):
        mv = m.get(key) if m and m.get("ok") else None
        tv = t.get(key) if t and t.get("ok") else None
        if t is None or (t.get("error") == "not available"): tvs = "pending"
        else: tvs = fmt(tv) if t.get("ok") else "failed"
        ms = fmt(mv) if m and m.get("ok") else "failed"
        ratio = "-"
        if better != "-" and isinstance(mv, (int, float)) and isinstance(tv, (int, float)) and mv:
            ratio = f"{tv / mv:.2f}" + (" (higher is better)" if better == "hi" else " (lower is better)")
        out.append(f"| {sc} | {label} | {ms} | {tvs} | {ratio} |")
print("\n".join(out))
for r in rows:
    if not r.get("ok") and r.get("error") != "not available":
        print(f"note: {r.get('scenario')}/{r.get('broker')} failed: {r.get('error')}")
EOF
cp "$RESULTS" "$BUILD/bench-results.jsonl" 2>/dev/null && echo "bench: JSON lines in $BUILD/bench-results.jsonl"
