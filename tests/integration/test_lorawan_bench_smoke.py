"""Smoke test of the LoRaWAN benchmark's load generator (bench/lorawan/, te_lw_load, built next to
TE_BIN): it registers devices into a data dir, drives a real `tinyedge serve` for one second through
3 UDP gateways and reads the uplinks back on MQTT. No timing is asserted: only that uplinks made it
end to end, unaltered and attributed to the right device, with no errors on either side."""
import json
import os
import subprocess

import pytest

from conftest import TE_BIN, Server

LOAD = os.path.join(os.path.dirname(TE_BIN), "te_lw_load")
pytestmark = pytest.mark.skipif(not os.path.exists(LOAD), reason="te_lw_load not built next to " + TE_BIN)


def load(*args, timeout=60):
    return subprocess.run([LOAD] + [str(a) for a in args], capture_output=True, text=True, timeout=timeout)


def test_bench_load_one_second(tmp_path):
    srv = Server(tmp_path, args=["--lorawan-dedup-ms", "50"])
    r = load("register", "--data-dir", srv.data_dir, "--devices", 40)
    assert r.returncode == 0, r.stderr
    reg = json.loads(r.stdout)
    assert reg["added"] == 40
    # a second registration finds them all and changes nothing
    r = load("register", "--data-dir", srv.data_dir, "--devices", 40)
    assert r.returncode == 0 and json.loads(r.stdout)["existed"] == 40, r.stdout + r.stderr
    srv.start()
    try:
        r = load("run", "--udp-port", srv.udp_port, "--mqtt-port", srv.mqtt_port, "--devices", 40,
                 "--gateways", 3, "--rate", 100, "--duration", 1, "--dedup-ms", 50, "--drain", 10, "--json-only")
        assert r.returncode == 0, r.stdout + r.stderr
        res = json.loads(r.stdout.strip().splitlines()[-1])
        assert res["ok"] is True and res["errors"] == 0, res
        assert res["received_unique"] > 0, res
        assert res["bad_messages"] == 0 and res["duplicates"] == 0 and res["send_errors"] == 0, res
        assert res["push_ack"] == res["push_data"] > 0, res
        _, metrics = srv.http_get("/metrics")
        assert "tinyedge_lorawan_mic_failures_total 0" in metrics
    finally:
        rc = srv.stop()
    log = srv.logtext()
    assert rc == 0, log[-3000:]
    assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-3000:]


def test_bench_load_bad_usage(tmp_path):
    r = load("run", "--udp-port", 1)
    assert r.returncode == 2 and "--mqtt-port" in r.stderr
    r = load("run", "--udp-port", "x", "--mqtt-port", 1)
    assert r.returncode == 2 and "bad value 'x' for --udp-port" in r.stderr
    r = load("fly")
    assert r.returncode == 2 and "unknown mode" in r.stderr
    r = load("register", "--devices", 3)
    assert r.returncode == 2 and "--data-dir" in r.stderr
    # nothing listening: a clear error, not a hang
    r = load("run", "--udp-port", 9, "--mqtt-port", 9, "--duration", 0.1, timeout=30)
    assert r.returncode == 2 and "PULL_ACK" in r.stderr
