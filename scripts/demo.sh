#!/usr/bin/env bash
# `make demo`: starts `tinyedge serve` and shows, step by step, what it does today: an MQTT
# publish/subscribe round trip with Debian's mosquitto clients, a retained message, persistence
# across a kill -9, $SYS topics, and the HTTP /health and /metrics endpoints.
set -euo pipefail
BUILD=${1:-build/release}
BIN="$BUILD/tinyedge"
MQTT_PORT=${DEMO_MQTT_PORT:-1883}
HTTP_PORT=${DEMO_HTTP_PORT:-8080}
DATA=$(mktemp -d /tmp/tinyedge-demo.XXXXXX)
LOG="$DATA/server.log"

port_busy() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
if port_busy "$MQTT_PORT" || port_busy "$HTTP_PORT"; then
  MQTT_PORT=18830; HTTP_PORT=18080
  echo "(default ports busy: using mqtt $MQTT_PORT, http $HTTP_PORT)"
fi

start() {
  "$BIN" serve --data-dir "$DATA" --bind 127.0.0.1 --mqtt-port "$MQTT_PORT" --http-port "$HTTP_PORT" \
    --mqtt-sys-interval 1 >>"$LOG" 2>&1 &
  PID=$!
  for _ in $(seq 100); do port_busy "$MQTT_PORT" && return 0; sleep 0.05; done
  echo "server did not start; log:"; cat "$LOG"; exit 1
}
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
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

step "done: run it yourself with  $BIN serve   (options: $BIN serve --help)"
