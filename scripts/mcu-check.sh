#!/usr/bin/env bash
# Compiles the code that must also run on a microcontroller (the LoRaWAN device side; later the
# TinyML runtime) with arm-none-eabi-gcc for a Cortex-M4F, warnings as errors, and prints the code
# size of each object (arm-none-eabi-size). Run by ctest as `mcu_build`.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CC=arm-none-eabi-gcc
command -v "$CC" >/dev/null || { echo "mcu-check: $CC missing (scripts/deps.sh installs gcc-arm-none-eabi)"; exit 1; }
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
# backend-independent sources only: crypto_openssl.c is the server's AES/CMAC backend
SRCS=(src/lorawan/crypto.c src/lorawan/frame.c src/lorawan/region.c src/lorawan/airtime.c src/lorawan/lpp.c src/lorawan/adr.c)
[ -f "$ROOT/src/lorawan/mac.c" ] && SRCS+=(src/lorawan/mac.c)
# the simulator's end-device stack is the firmware's LoRaWAN stack too
SRCS+=(src/sim/lw_device.c)
for s in "${SRCS[@]}"; do
  o="$OUT/$(basename "${s%.c}").o"
  "$CC" -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -Os -std=c11 -ffunction-sections \
    -Wall -Wextra -Werror -Wshadow -I"$ROOT/src" -c "$ROOT/$s" -o "$o"
done
arm-none-eabi-size "$OUT"/*.o | sed "s|$OUT/||"
echo "mcu-check: ${#SRCS[@]} files compile for cortex-m4"
