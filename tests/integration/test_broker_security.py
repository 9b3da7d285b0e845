"""Security against real peers: mosquitto_passwd files, mosquitto ACL files, TLS with and without
client certificates (mosquitto_pub/sub with --cafile/--cert), and MQTT over WebSockets."""
import os
import ssl
import subprocess
import time

import pytest
from conftest import Server, free_port, wait_port
from mqttc import Client, V311, V5


def write(path, text):
    path.write_text(text)
    return str(path)


@pytest.fixture
def secured(tmp_path):
    pw = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pw), "alice", "wonderland"], check=True)
    subprocess.run(["mosquitto_passwd", "-b", str(pw), "bob", "builder"], check=True)
    acl = write(tmp_path / "acl", "topic read public/#\n"
                "user alice\ntopic readwrite alice/#\ntopic read public/#\ntopic write public/#\n"
                "user bob\ntopic read alice/#\n"
                "pattern readwrite clients/%c/#\n")
    srv = Server(tmp_path, ["--mqtt-password-file", str(pw), "--mqtt-acl-file", acl,
                            "--mqtt-allow-anonymous", "true"]).start()
    yield srv
    assert srv.stop() == 0


def test_password_file_from_mosquitto_passwd(secured):
    ok = Client(secured.mqtt_port, "a1", username="alice", password="wonderland")
    assert ok.rc == 0
    ok.close()
    bad = Client(secured.mqtt_port, "a2", username="alice", password="nope", connect=False)
    assert bad.connect() == 4  # 3.1.1: bad user name or password
    bad5 = Client(secured.mqtt_port, "a3", V5, username="alice", password="nope", connect=False)
    assert bad5.connect() == 134  # 0x86


def test_acl_publish_and_subscribe(secured):
    alice = Client(secured.mqtt_port, "alice-c", V5, username="alice", password="wonderland")
    bob = Client(secured.mqtt_port, "bob-c", V5, username="bob", password="builder")
    granted = bob.sub("alice/#", 1)
    assert granted[0].value == 1
    denied = bob.sub("secret/#", 1)
    assert denied[0].value == 0x87
    alice.pub("alice/diary", b"dear diary", 1)
    assert bob.get().payload == b"dear diary"
    # bob may not write alice/#: v5 PUBACK 0x87, nothing delivered
    info = bob.pub("alice/diary", b"forged", 1, wait=False)
    info.wait_for_publish(5)
    assert alice.sub("alice/#", 1)[0].value == 1
    assert alice.none(0.5)
    # pattern %c
    assert bob.sub("clients/bob-c/#", 0)[0].value == 0
    v3 = Client(secured.mqtt_port, "bob-3", V311, username="bob", password="builder")
    assert v3.sub("secret/#", 1) == (128,)


def make_certs(d):
    def run(*a):
        subprocess.run(a, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d / "ca.key", "-out", d / "ca.crt",
        "-days", "2", "-subj", "/CN=tinyedge test CA")
    for name in ("server", "client"):
        run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", d / (name + ".key"), "-out",
            d / (name + ".csr"), "-subj", "/CN=" + ("localhost" if name == "server" else "device-7"))
        ext = d / (name + ".ext")
        ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n" if name == "server" else "")
        run("openssl", "x509", "-req", "-in", d / (name + ".csr"), "-CA", d / "ca.crt", "-CAkey", d / "ca.key",
            "-CAcreateserial", "-out", d / (name + ".crt"), "-days", "2", "-extfile", ext)
    return {k: str(d / k) for k in ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")}


@pytest.mark.parametrize("require_cert", [False, True])
def test_tls_listener_with_mosquitto_clients(tmp_path, require_cert):
    certs = make_certs(tmp_path)
    tls_port = free_port()
    srv = Server(tmp_path, ["--mqtt-tls-port", str(tls_port), "--mqtt-certfile", certs["server.crt"],
                            "--mqtt-keyfile", certs["server.key"], "--mqtt-cafile", certs["ca.crt"],
                            "--mqtt-require-certificate", "true" if require_cert else "false"]).start()
    try:
        wait_port(tls_port)
        client_args = ["--cert", certs["client.crt"], "--key", certs["client.key"]] if require_cert else []
        common = ["-h", "localhost", "-p", str(tls_port), "--cafile", certs["ca.crt"]] + client_args
        sub = subprocess.Popen(["mosquitto_sub"] + common + ["-t", "tls/#", "-C", "1"], stdout=subprocess.PIPE,
                               text=True)
        time.sleep(0.5)
        subprocess.run(["mosquitto_pub"] + common + ["-t", "tls/x", "-m", "secret", "-q", "1"], check=True,
                       timeout=10)
        out, _ = sub.communicate(timeout=10)
        assert out.strip() == "secret"
        if require_cert:
            r = subprocess.run(["mosquitto_pub", "-h", "localhost", "-p", str(tls_port), "--cafile", certs["ca.crt"],
                                "-t", "tls/x", "-m", "x"], capture_output=True, timeout=10)
            assert r.returncode != 0
    finally:
        assert srv.stop() == 0


def test_websocket_listener_paho(tmp_path):
    ws_port = free_port()
    srv = Server(tmp_path, ["--mqtt-ws-port", str(ws_port)]).start()
    try:
        wait_port(ws_port)
        a = Client(ws_port, "ws-a", transport="websockets")
        a.sub("ws/#", 1)
        b = Client(srv.mqtt_port, "tcp-b")
        b.pub("ws/hello", b"over websockets", 1)
        assert a.get().payload == b"over websockets"
        a.close()
        b.close()
    finally:
        assert srv.stop() == 0


def test_websocket_mqttjs(tmp_path):
    """MQTT.js, the browser/Node client, over WebSockets (subprotocol mqtt)."""
    node_modules = os.path.join(os.path.dirname(os.path.dirname(__file__)), "node_modules", "mqtt")
    if not os.path.isdir(node_modules):
        pytest.fail("npm package mqtt missing: run scripts/deps.sh")
    ws_port = free_port()
    srv = Server(tmp_path, ["--mqtt-ws-port", str(ws_port)]).start()
    try:
        wait_port(ws_port)
        script = os.path.join(os.path.dirname(__file__), "mqttjs_ws.js")
        r = subprocess.run(["node", script, "ws://127.0.0.1:%d/mqtt" % ws_port], capture_output=True, text=True,
                           timeout=30, cwd=os.path.dirname(os.path.dirname(__file__)))
        assert r.returncode == 0, r.stderr
        import json
        got = sorted(json.loads(r.stdout.strip().splitlines()[-1]), key=lambda m: m["topic"])
        assert [(m["topic"], m["payload"], m["qos"]) for m in got] == [
            ("js/props", "with props", 1), ("js/q0", "hello 0", 0), ("js/q1", "hello 1", 1), ("js/q2", "hello 2", 2)]
        assert got[0]["user"] == {"a": "1"}
    finally:
        assert srv.stop() == 0


def test_websocket_over_tls_paho(tmp_path):
    certs = make_certs(tmp_path)
    wss_port = free_port()
    srv = Server(tmp_path, ["--mqtt-wss-port", str(wss_port), "--mqtt-certfile", certs["server.crt"],
                            "--mqtt-keyfile", certs["server.key"]]).start()
    try:
        wait_port(wss_port)
        a = Client(wss_port, "wss-a", V5, transport="websockets", tls={"ca_certs": certs["ca.crt"]})
        a.sub("wss/#", 1)
        Client(srv.mqtt_port, "tcp-w").pub("wss/x", b"encrypted websocket", 1)
        assert a.get().payload == b"encrypted websocket"
        a.close()
    finally:
        assert srv.stop() == 0
