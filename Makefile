# tinyedge: the two commands a person needs (`make demo`, `make test`) plus build helpers.
# Every target installs the Debian packages first (scripts/deps.sh is idempotent and quick).
JOBS ?= $(shell nproc)
PY := /usr/bin/python3

.PHONY: all deps build build-asan test unit integration demo bench fuzz clean

all: build

deps:
	@bash scripts/deps.sh

# the compiler's chatter goes to build/<kind>.log; it is shown only when the build fails
build: deps
	@mkdir -p build && echo "build: release -> build/release (log build/release.log)"
	@cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >build/release.log 2>&1 || (cat build/release.log; exit 1)
	@cmake --build build/release -j $(JOBS) >>build/release.log 2>&1 || (tail -60 build/release.log; exit 1)

build-asan: deps
	@mkdir -p build && echo "build: ASan+UBSan -> build/asan (log build/asan.log)"
	@cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DTE_SANITIZE=ON >build/asan.log 2>&1 || (cat build/asan.log; exit 1)
	@cmake --build build/asan -j $(JOBS) >>build/asan.log 2>&1 || (tail -60 build/asan.log; exit 1)

# unit (cmocka via ctest) + fuzz smoke (seed corpora) + integration (pytest, real peers), all on
# the ASan/UBSan build; prints one summary at the end. The release build is compiled too: gcc -O2
# warns (-Werror) where -O0 does not, and `make demo` / `make bench` use that build.
test: build build-asan
	@bash scripts/test.sh build/asan

unit: build-asan
	@cd build/asan && ctest --output-on-failure -j $(JOBS) -L 'unit|fuzz'

integration: build-asan
	@TE_BIN=$(CURDIR)/build/asan/tinyedge $(PY) -m pytest -q tests/integration

demo: build
	@bash scripts/demo.sh build/release

# MQTT broker against mosquitto, then the LoRaWAN end-to-end benchmark (bench/lorawan.sh)
bench: build
	@bash bench/run.sh build/release
	@bash bench/lorawan.sh build/release

fuzz: deps
	@CC=clang cmake -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DTE_SANITIZE=ON -DTE_LIBFUZZER=ON >/dev/null
	@cmake --build build/fuzz -j $(JOBS)
	@echo "fuzz targets in build/fuzz/fuzz_*; run e.g. build/fuzz/fuzz_mqtt_packet fuzz/corpus/mqtt_packet -max_total_time=60"

clean:
	rm -rf build
