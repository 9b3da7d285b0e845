#!/usr/bin/env bash
# `make demo`: starts `tinyedge serve` and shows, step by step, what it does today: an MQTT
# publish/subscribe round trip with Debian's mosquitto clients, a retained message, persistence
# across a kill -9, $SYS topics, the HTTP /health and /metrics endpoints, and LoRaWAN: 50 simulated
# sensors and 3 gateways (`tinyedge sim`, over UDP) whose readings arrive decoded on MQTT as The
# Things Stack publishes them, and a downlink pushed on MQTT that reaches its device.
set -euo pipefail
BUILD=${1:-build/release}
BIN="$BUILD/tinyedge"
MQTT_PORT=${DEMO_MQTT_PORT:-1883}
HTTP_PORT=${DEMO_HTTP_PORT:-8080}
UDP_PORT=${DEMO_UDP_PORT:-1700}
DATA=$(mktemp -d /tmp/tinyedge-demo.XXXXXX)
LOG="$DATA/server.log"

port_busy() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
udp_busy() { ss -Hlun "sport = :$1" 2>/dev/null | grep -q .; }
if port_busy "$MQTT_PORT" || port_busy "$HTTP_PORT" || udp_busy "$UDP_PORT"; then
  MQTT_PORT=18830; HTTP_PORT=18080; UDP_PORT=17000
  echo "(default ports busy: using mqtt $MQTT_PORT, http $HTTP_PORT, udp $UDP_PORT)"
fi

start() {
  "$BIN" serve --data-dir "$DATA" --bind 127.0.0.1 --mqtt-port "$MQTT_PORT" --http-port "$HTTP_PORT" \
    --udp-port "$UDP_PORT" --mqtt-sys-interval 1 >>"$LOG" 2>&1 &
  PID=$!
  for _ in $(seq 100); do port_busy "$MQTT_PORT" && return 0; sleep 0.05; done
  echo "server did not start; log:"; cat "$LOG"; exit 1
}
SIM=""
cleanup() {
  [ -n "$SIM" ] && kill "$SIM" 2>/dev/null
  kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "tinyedge $("$BIN" --version | cut -d' ' -f2): starting 'tinyedge serve' (mqtt :$MQTT_PORT, http :$HTTP_PORT, data $DATA)"
start
echo "server pid $PID"

step "1. publish/subscribe round trip (mosquitto_sub <- tinyedge <- mosquitto_pub, MQTT 3.1.1 and 5.0)"
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t 'sensors/#' -v -C 3 -q 1 &
SUB=$!
sleep 0.3
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t sensors/greenhouse/temp -m '21.5' -q 1
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t sensors/greenhouse/humidity -m '63' -q 2 -V mqttv5
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t sensors/field/soil -m '{"moisture":0.31}' -q 0
wait $SUB

step "2. a retained message is handed to a subscriber that comes later"
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t status/gateway -m online -r -q 1
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t 'status/#' -v -C 1

step "3. a persistent session keeps acknowledged messages across kill -9"
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -i demo-durable -c -q 1 -t 'alerts/#' -C 1 -W 1 >/dev/null 2>&1 || true
for i in 1 2 3; do mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t alerts/door -m "opened #$i" -q 1; done
echo "3 messages queued for the offline client 'demo-durable'; now: kill -9 $PID"
kill -9 "$PID"; wait "$PID" 2>/dev/null || true
start
echo "restarted (pid $PID); the offline client reconnects:"
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -i demo-durable -c -q 1 -t 'alerts/#' -v -C 3 -W 5

step "4. \$SYS topics, as mosquitto publishes them"
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t '$SYS/broker/version' -t '$SYS/broker/uptime' \
  -t '$SYS/broker/messages/received' -v -C 3 -W 5

step "5. HTTP: /health and /metrics (Prometheus)"
curl -s "http://127.0.0.1:$HTTP_PORT/health"
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | grep -E '^tinyedge_mqtt_(clients_connected|messages_received_total|messages_sent_total|retained_messages|subscriptions) '

step "6. LoRaWAN: 50 simulated sensors and 3 gateways -> network/join/application server -> MQTT"
echo "tinyedge sim registers an application (Cayenne LPP formatter), 50 OTAA devices and 3 gateways in"
echo "the registry, then plays them over UDP :$UDP_PORT (Semtech packet forwarder): joins, uplinks, ADR."
"$BIN" sim --server "127.0.0.1:$UDP_PORT" --data-dir "$DATA" --devices 50 --gateways 3 --interval 20 \
  --duration 90 --report "$DATA/sim.json" -v >"$DATA/sim.log" 2>&1 &
SIM=$!
echo "decoded uplinks on v3/+/devices/+/up (mosquitto_sub), the first one whole:"
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t 'v3/+/devices/+/up' -C 6 -W 80 >"$DATA/up.jsonl" || true
/usr/bin/python3 - "$DATA/up.jsonl" <<'PY'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
if not msgs:
    sys.exit("no uplink arrived")
print(json.dumps(msgs[0], indent=1)[:2500])
for m in msgs[1:]:
    u = m["uplink_message"]
    print("%-14s f_cnt=%-3s gateways=%d  %s" % (m["end_device_ids"]["device_id"], u.get("f_cnt", 0),
          len(u.get("rx_metadata", [])), json.dumps(u.get("decoded_payload"))))
PY
DEV=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["end_device_ids"]["device_id"])' "$DATA/up.jsonl")
IDX=${DEV##*-}

step "7. a confirmed downlink pushed on MQTT (v3/sim@ttn/devices/$DEV/down/push) reaches the device"
T="v3/sim@ttn/devices/$DEV/down"
mosquitto_sub -h 127.0.0.1 -p "$MQTT_PORT" -t "$T/queued" -t "$T/sent" -t "$T/ack" -t "$T/nack" -t "$T/failed" \
  -v -C 3 -W 75 >"$DATA/down.txt" &
DSUB=$!
sleep 0.3
mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -t "v3/sim@ttn/devices/$DEV/down/push" \
  -m '{"downlinks":[{"f_port":10,"frm_payload":"AQI=","confirmed":true}]}'
echo "queued; it goes down in the receive window after the device's next uplink, and the device"
echo "acknowledges it in the uplink after that (~20-60 s)..."
wait $DSUB || true
cut -c1-200 "$DATA/down.txt"
grep -E "dev=$IDX event=downlink .*fport=10" "$DATA/sim.log" | head -1 | sed "s/^/sim, device $DEV: /" || true
wait $SIM 2>/dev/null || true
SIM=""
echo "simulator summary:"
sed -n '/^sim summary/,$p' "$DATA/sim.log"
curl -s "http://127.0.0.1:$HTTP_PORT/metrics" | grep -E '^tinyedge_lorawan_(devices|uplinks_total|joins_total|downlinks_total|rxpk_duplicates_total) '

step "done: run it yourself with  $BIN serve   (options: $BIN serve --help; LoRaWAN: docs/lorawan.md)"
