#!/usr/bin/env bash
# Installs the Debian packages tinyedge needs to build, test and demo. Idempotent: packages already
# present are skipped, and nothing is downloaded when all are there. Run as root (or with sudo).
set -euo pipefail

PKGS=(
  # build
  build-essential cmake pkg-config curl
  # libraries (see docs/architecture.md for why each)
  libuv1-dev libssl-dev libhttp-parser-dev libwslay-dev libjansson-dev libinih-dev libsqlite3-dev duktape-dev zlib1g-dev
  # unit tests
  libcmocka-dev
  # integration peers
  mosquitto mosquitto-clients python3 python3-pytest python3-paho-mqtt python3-influxdb
  # microcontroller build check (LoRaWAN device side, later the TinyML runtime)
  gcc-arm-none-eabi libnewlib-arm-none-eabi
  # fuzzing with libFuzzer (optional for `make test`, used by `make fuzz`)
  clang libclang-rt-14-dev
)

missing=()
# Node.js with npm (for MQTT.js in the tests): this machine may carry a nodejs that bundles npm, which
# conflicts with Debian's npm package, so ask for Debian's only when no npm command is there.
if ! command -v npm >/dev/null 2>&1; then PKGS+=(nodejs npm); fi
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PKGS[@]} Debian packages present"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "deps: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "deps: done"
fi

# The Debian mosquitto package enables its own daemon on port 1883; tests and the demo start their
# own brokers on free ports, but a running system mosquitto would take tinyedge's default port.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
  echo "deps: note: the system mosquitto service is running on port 1883"
fi

# npm packages for integration tests (MQTT.js over WebSockets), kept in tests/node_modules.
here="$(cd "$(dirname "$0")/.." && pwd)"
# `npm ls` fails when a dependency in package.json is missing or does not match: install then.
if [ -f "$here/tests/package.json" ] && ! (cd "$here/tests" && npm ls --depth=0 >/dev/null 2>&1); then
  echo "deps: installing npm test packages in tests/ (MQTT.js, lora-packet)"
  (cd "$here/tests" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
fi
