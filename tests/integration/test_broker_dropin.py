"""`tinyedge broker` as a drop-in for `mosquitto`: the same command-line flags and mosquitto.conf."""
import os
import subprocess
import time

import pytest
from conftest import TE_BIN, Server, free_port, wait_port
from mqttc import Client, V5


def test_broker_cli_flags_and_help():
    out = subprocess.run([TE_BIN, "broker", "--help"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and "-c" in out.stdout and "mosquitto.conf" in out.stdout
    out = subprocess.run([TE_BIN, "--version"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and out.stdout.startswith("tinyedge ")
    for sub in ("serve", "broker"):
        assert subprocess.run([TE_BIN, sub, "--help"], capture_output=True, timeout=10).returncode == 0
    assert subprocess.run([TE_BIN, "nonsense"], capture_output=True, timeout=10).returncode == 2


def test_broker_p_flag(tmp_path):
    port = free_port()
    srv = Server(tmp_path, ["-p", str(port)], mode="broker")
    srv.mqtt_port = port
    srv.start()
    try:
        c = Client(port, "p-flag")
        c.sub("x", 1)
        c.pub("x", b"1", 1)
        assert c.get().payload == b"1"
    finally:
        assert srv.stop() == 0


def test_mosquitto_conf(tmp_path):
    port, ws_port = free_port(), free_port()
    pw = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pw), "dev", "secret"], check=True)
    acl = tmp_path / "acl"
    acl.write_text("user dev\ntopic readwrite sensors/#\n")
    data = tmp_path / "persist"
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        "# a mosquitto.conf as users write them\n"
        "per_listener_settings false\n"
        "listener %d 127.0.0.1\n"
        "listener %d 127.0.0.1\n"
        "protocol websockets\n"
        "allow_anonymous false\n"
        "password_file %s\n"
        "acl_file %s\n"
        "persistence true\n"
        "persistence_location %s\n"
        "autosave_interval 30\n"
        "max_inflight_messages 10\n"
        "max_queued_messages 500\n"
        "max_keepalive 120\n"
        "message_size_limit 1000\n"
        "retain_available true\n"
        "no_such_option 42\n" % (port, ws_port, pw, acl, data))
    srv = Server(tmp_path, ["-c", str(conf)], mode="broker")
    srv.mqtt_port = port
    srv.start()
    try:
        wait_port(ws_port)
        log = srv.logtext()
        assert "key=no_such_option" in log and "line=17" in log  # unknown keys are named, not ignored
        anon = Client(port, "anon", connect=False)
        assert anon.connect() == 5  # not authorized: allow_anonymous false
        dev = Client(port, "dev1", V5, username="dev", password="secret")
        assert dev.connack_props.ReceiveMaximum == 10
        assert dev.sub("sensors/#", 1)[0].value == 1
        assert dev.sub("other/#", 1)[0].value == 0x87
        ws = Client(ws_port, "dev-ws", username="dev", password="secret", transport="websockets")
        ws.pub("sensors/t", b"21.5", 1)
        assert dev.get().payload == b"21.5"
        big = dev.pub("sensors/big", b"x" * 2000, 1, wait=False)  # over message_size_limit
        big.wait_for_publish(5)
        assert dev.none(0.5)
        assert os.path.exists(os.path.join(str(data), "mqtt.db"))
    finally:
        assert srv.stop() == 0


def test_bad_mosquitto_conf_is_refused(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("listener 1884\nallow_anonymous maybe\n")
    r = subprocess.run([TE_BIN, "broker", "-c", str(conf)], capture_output=True, text=True, timeout=10)
    assert r.returncode != 0 and "allow_anonymous" in r.stderr
