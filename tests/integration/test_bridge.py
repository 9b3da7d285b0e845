"""Bridges against Debian's real mosquitto daemon: tinyedge bridging to mosquitto (out, in, both
with prefixes and no loops, queueing while the link is down), mosquitto bridging to tinyedge, and
a fake remote that sends garbage or never answers PINGREQ (the link drops and reconnects)."""
import os
import pwd
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest
from conftest import Server, free_port, wait_port
from mqttc import Client, V311, V5
from test_broker_security import make_certs

MOSQUITTO = "/usr/sbin/mosquitto"
pytestmark = pytest.mark.skipif(not os.path.exists(MOSQUITTO), reason="mosquitto not installed")


class Mosquitto:
    """Debian's mosquitto on a free 127.0.0.1 port with its own config (anonymous allowed)."""

    def __init__(self, tmp_path, extra="", port=None, persistence=False):
        self.port = port or free_port()
        self.dir = tmp_path / ("mosq-%d" % self.port)
        self.dir.mkdir(exist_ok=True)
        self.conf = self.dir / "mosquitto.conf"
        # as root mosquitto would switch to user "mosquitto", which cannot read or write our temp dir
        text = "user %s\nlistener %d 127.0.0.1\nallow_anonymous true\n" % (
            pwd.getpwuid(os.getuid()).pw_name, self.port)
        if persistence:
            text += "persistence true\npersistence_location %s/\n" % self.dir
        self.conf.write_text(text + extra)
        self.log_path = self.dir / "mosquitto.log"
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf), "-v"], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_port(self.port, proc=self.proc)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def logtext(self):
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def mosq(tmp_path):
    made = []

    def make(*a, **kw):
        m = Mosquitto(tmp_path, *a, **kw)
        made.append(m)
        return m

    yield make
    for m in made:
        m.stop()


@pytest.fixture
def te(tmp_path):
    """tinyedge broker with a mosquitto.conf; checked for a clean exit at the end."""
    made = []

    def make(conf_text):
        srv = Server(tmp_path, mode="broker")
        path = tmp_path / ("te-%d.conf" % srv.mqtt_port)
        path.write_text("listener %d 127.0.0.1\nallow_anonymous true\n" % srv.mqtt_port + conf_text)
        srv.args = ["-c", str(path)]
        made.append(srv)
        return srv.start()

    yield make
    for srv in made:
        if srv.proc is None:
            continue
        rc = srv.stop()
        log = srv.logtext()
        assert rc == 0, "tinyedge exit %s\n%s" % (rc, log[-4000:])
        assert "ERROR: AddressSanitizer" not in log and "runtime error:" not in log, log[-4000:]


def stop_clean(srv):
    rc = srv.stop()
    log = srv.logtext()
    assert rc == 0, "tinyedge exit %s\n%s" % (rc, log[-4000:])
    assert "ERROR: AddressSanitizer" not in log and "runtime error:" not in log, log[-4000:]
    return log


def bridge_conf(name, port, topics, cid=None, proto=None, extra=""):
    text = "connection %s\naddress 127.0.0.1:%d\nremote_clientid %s\n" % (name, port, cid or "te-" + name)
    if proto:
        text += "bridge_protocol_version %s\n" % proto
    text += "".join("topic %s\n" % t for t in topics)
    return text + extra


def wait_state(port, cid, value, timeout=8):
    """Wait for the retained bridge state notification on a broker."""
    c = Client(port, "state-watch-%d" % time.time_ns())
    c.sub("$SYS/broker/connection/%s/state" % cid, 1)
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            try:
                m = c.get(timeout=max(0.05, deadline - time.time()))
            except Exception:
                break
            if m.payload == value:
                return
        raise AssertionError("state %r of %s not seen on port %d" % (value, cid, port))
    finally:
        c.close()


def drain(c, wait=0.8):
    got = []
    time.sleep(wait)
    while not c.msgs.empty():
        m = c.msgs.get()
        got.append((m.topic, m.payload))
    return got


def test_out_tinyedge_to_mosquitto(te, mosq):
    m = mosq().start()
    srv = te(bridge_conf("b1", m.port, ["out/# out 1"]))
    wait_state(srv.mqtt_port, "te-b1", b"1")
    wait_state(m.port, "te-b1", b"1")  # mosquitto-style remote notification, after the SUBSCRIBEs
    sub = Client(m.port, "msub")
    sub.sub("out/#", 2)
    pub = Client(srv.mqtt_port, "tpub")
    for q in (0, 1, 2):
        pub.pub("out/q%d" % q, b"hello %d" % q, q)
    pub.pub("other/x", b"not bridged", 1)
    got = [sub.get() for _ in range(3)]
    assert [(g.topic, g.payload) for g in got] == [("out/q0", b"hello 0"), ("out/q1", b"hello 1"),
                                                   ("out/q2", b"hello 2")]
    assert [g.qos for g in got] == [0, 1, 1]  # min(message QoS, topic QoS 1)
    assert sub.none()
    sub.close()
    pub.close()
    assert "event=connected name=b1" in srv.logtext()
    # a clean stop tells the remote the link is gone (the DISCONNECT suppresses the will)
    stop_clean(srv)
    wait_state(m.port, "te-b1", b"0")


def test_in_mosquitto_to_tinyedge(te, mosq):
    m = mosq().start()
    srv = te(bridge_conf("b2", m.port, ["in/# in 2"]))
    wait_state(m.port, "te-b2", b"1")
    sub = Client(srv.mqtt_port, "tsub")
    sub.sub("in/#", 2)
    pub = Client(m.port, "mpub")
    for i in range(20):
        pub.pub("in/%d" % (i % 3), b"%d" % i, 1 + i % 2)
    got = [sub.get() for _ in range(20)]
    # MQTT orders messages per QoS level (mosquitto itself interleaves QoS 1 and 2 differently)
    for q in (1, 2):
        assert [int(g.payload) for g in got if g.qos == q] == [i for i in range(20) if 1 + i % 2 == q]
    # a local publish on an `in` topic does not go out
    msub = Client(m.port, "msub2")
    msub.sub("in/#", 1)
    lp = Client(srv.mqtt_port, "tpub2")
    lp.pub("in/local", b"stay", 1)
    assert msub.none(0.5)
    for c in (sub, pub, msub, lp):
        c.close()


@pytest.mark.parametrize("proto", [None, "mqttv50"])
def test_both_with_prefixes_no_loops(te, mosq, proto):
    m = mosq().start()
    srv = te(bridge_conf("b3", m.port, ["# both 1 local/ remote/"], proto=proto))
    wait_state(m.port, "te-b3", b"1")
    tsub = Client(srv.mqtt_port, "tsub3")
    tsub.sub("#", 1)
    msub = Client(m.port, "msub3")
    msub.sub("#", 1)
    tpub = Client(srv.mqtt_port, "tpub3")
    mpub = Client(m.port, "mpub3")
    tpub.pub("local/a", b"from tinyedge", 1)
    tpub.pub("local/deep/er", b"deep", 0)
    mpub.pub("remote/b", b"from mosquitto", 1)
    tpub.pub("elsewhere/c", b"unbridged", 1)
    tgot = sorted(drain(tsub, 1.2))
    mgot = sorted(drain(msub, 0.1))
    assert tgot == [("elsewhere/c", b"unbridged"), ("local/a", b"from tinyedge"), ("local/b", b"from mosquitto"),
                    ("local/deep/er", b"deep")]
    assert mgot == [("remote/a", b"from tinyedge"), ("remote/b", b"from mosquitto"), ("remote/deep/er", b"deep")]
    for c in (tsub, msub, tpub, mpub):
        c.close()
    # 3.1.1 has no No Local: mosquitto echoed our two messages and the bridge recognised them;
    # v5 subscribes with No Local, so nothing comes back
    log = stop_clean(srv)
    assert ("echoes=0" if proto else "echoes=2") in log


def test_link_down_queues_and_delivers_in_order(te, mosq):
    m = mosq(persistence=True).start()
    srv = te(bridge_conf("b4", m.port, ["q/# out 1"], extra="cleansession false\n"))
    wait_state(m.port, "te-b4", b"1")
    sub = Client(m.port, "msub4", clean=False)
    sub.sub("q/#", 1)
    pub = Client(srv.mqtt_port, "tpub4")
    pub.pub("q/before", b"before", 1)
    assert sub.get().payload == b"before"
    sub.close()
    m.stop()
    wait_state(srv.mqtt_port, "te-b4", b"0")
    n = 50
    for i in range(n):
        pub.pub("q/%d" % (i % 4), b"%d" % i, 1)
    pub.pub("q/zero", b"qos0 while down", 0)  # not queued, as mosquitto
    time.sleep(0.3)
    m.start()
    wait_state(srv.mqtt_port, "te-b4", b"1", timeout=10)
    sub = Client(m.port, "msub4", clean=False)
    got = []
    deadline = time.time() + 8
    while len(got) < n and time.time() < deadline:
        try:
            got.append(sub.get(timeout=max(0.05, deadline - time.time())).payload)
        except Exception:
            break
    got += [p for _, p in drain(sub, 0.5)]
    firsts = []
    for p in got:  # QoS 1 is at-least-once: keep first occurrences
        if p not in firsts:
            firsts.append(p)
    assert firsts == [b"%d" % i for i in range(n)]
    assert b"qos0 while down" not in got
    # the link works normally afterwards
    pub.pub("q/after", b"after", 1)
    deadline = time.time() + 5
    while time.time() < deadline:
        if sub.get(timeout=5).payload == b"after":
            break
    sub.close()
    pub.close()
    log = srv.logtext()
    assert "event=link_down name=b4" in log and "event=reconnect_scheduled name=b4" in log


def test_mosquitto_bridges_to_tinyedge(te, mosq):
    srv = te("")
    # mosquitto's default try_private true: its CONNECT carries the level byte 0x84, which tinyedge
    # takes as a bridge (no echo of its own messages, retain as published)
    m = mosq(extra=bridge_conf("mbr", srv.mqtt_port, ["m2t/# out 1", "t2m/# in 1", "echo/# both 1"],
                               cid="mosq-br")).start()
    # mosquitto's own local notification says the bridge is up
    wait_state(m.port, "mosq-br", b"1", timeout=10)
    time.sleep(0.3)
    tsub = Client(srv.mqtt_port, "tsub5")
    tsub.sub("m2t/#", 1)
    msub = Client(m.port, "msub5")
    msub.sub("t2m/#", 1)
    Client(m.port, "mpub5").pub("m2t/x", b"to tinyedge", 1)
    g = tsub.get()
    assert (g.topic, g.payload) == ("m2t/x", b"to tinyedge")
    Client(srv.mqtt_port, "tpub5").pub("t2m/y", b"to mosquitto", 1)
    g = msub.get()
    assert (g.topic, g.payload) == ("t2m/y", b"to mosquitto")
    # `both`: a message crosses once and does not come back
    msub.sub("echo/#", 1)
    Client(m.port, "mpub6").pub("echo/z", b"once", 1)
    assert msub.get().payload == b"once"
    assert msub.none(1.0)
    assert "mosq-br" in srv.logtext() and "proto=4" in srv.logtext()
    tsub.close()
    msub.close()


# ---- a fake remote: bad input and keepalive ----

def read_packet(sk):
    hdr = sk.recv(1)
    if not hdr:
        return None, None
    mult, rl = 1, 0
    while True:
        b = sk.recv(1)[0]
        rl += (b & 127) * mult
        mult *= 128
        if not b & 128:
            break
    body = b""
    while len(body) < rl:
        d = sk.recv(rl - len(body))
        if not d:
            break
        body += d
    return hdr[0], body


class FakeRemote:
    """Accepts bridge connections; `behave(sk, n, connect_body)` plays the remote for connection n."""

    def __init__(self, behave):
        self.sk = socket.socket()
        self.sk.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sk.bind(("127.0.0.1", 0))
        self.sk.listen(8)
        self.sk.settimeout(0.2)
        self.port = self.sk.getsockname()[1]
        self.behave = behave
        self.connects = []
        self.closed_at = []
        self.stop_flag = False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop_flag:
            try:
                c, _ = self.sk.accept()
            except OSError:
                continue
            c.settimeout(5)
            try:
                typ, body = read_packet(c)
                self.connects.append((time.time(), typ, body))
                self.behave(c, len(self.connects), body)
                while read_packet(c)[0] is not None:
                    pass
            except OSError:
                pass
            self.closed_at.append(time.time())
            c.close()

    def close(self):
        self.stop_flag = True
        self.t.join(2)
        self.sk.close()


def test_bad_input_and_silent_remote_drop_and_reconnect(te):
    def behave(c, n, body):
        if n == 1:
            c.sendall(b"\x20\x02\x00\x00")  # accepted, then never answers PINGREQ
        elif n == 2:
            c.sendall(b"\x20\x02\x00\x00")  # accepted, then a malformed remaining length
            c.sendall(b"\x30\xff\xff\xff\xff\x7f")
        elif n == 3:
            c.sendall(b"\x90\x03\x00\x01\x00")  # a SUBACK instead of a CONNACK
        else:
            c.sendall(b"\x20\x02\x00\x00")

    fake = FakeRemote(behave)
    try:
        srv = te(bridge_conf("bad", fake.port, ["x/# both 1"], cid="te-bad",
                             extra="keepalive_interval 1\ncleansession false\n"))
        deadline = time.time() + 12
        while "expected CONNACK" not in srv.logtext() and time.time() < deadline:
            time.sleep(0.1)
        assert len(fake.connects) >= 3, srv.logtext()[-3000:]
        # the CONNECT: MQTT 3.1.1 with the plain level byte 4 (no 0x84 try_private), clean session
        # off, keepalive 1, a retained QoS 1 will "0" on the state topic, our client id
        _, typ, body = fake.connects[0]
        assert typ == 0x10
        assert body[:7] == b"\x00\x04MQTT\x04"
        flags = body[7]
        assert flags & 0x02 == 0 and flags & 0x04 and (flags >> 3) & 3 == 1 and flags & 0x20
        assert struct.unpack(">H", body[8:10])[0] == 1
        cid_len = struct.unpack(">H", body[10:12])[0]
        assert body[12:12 + cid_len] == b"te-bad"
        assert b"$SYS/broker/connection/te-bad/state" in body
        # the silent remote was dropped one keepalive after the unanswered PINGREQ
        t_open, t_close = fake.connects[0][0], fake.closed_at[0]
        assert 1.5 < t_close - t_open < 4
        log = srv.logtext()
        assert "no PINGRESP within keepalive" in log and "malformed packet" in log
        # the server is still fine
        c = Client(srv.mqtt_port, "alive")
        c.sub("a", 0)
        c.pub("a", b"ok", 0)
        assert c.get().payload == b"ok"
        c.close()
    finally:
        fake.close()


def test_default_client_id_and_local_state(te, mosq):
    m = mosq().start()
    srv = te("connection dflt\naddress 127.0.0.1:%d\ntopic d/# out 0\n" % m.port)
    cid = "%s.dflt" % socket.gethostname()
    wait_state(srv.mqtt_port, cid, b"1")
    m.stop()
    wait_state(srv.mqtt_port, cid, b"0")


def test_inflight_window_and_dup_resend_after_reconnect(te):
    """A remote that never acknowledges, then drops: the window holds 20 QoS 1 messages; after the
    reconnect they are resent first, with DUP and their packet ids, then the rest follow in order."""
    seen = {}

    def behave(c, n, body):
        c.sendall(b"\x20\x02\x00\x00")
        pubs = seen.setdefault(n, [])
        c.settimeout(0.2)
        end = time.time() + (1.0 if n == 1 else 3.0)
        while time.time() < end:
            try:
                typ, b = read_packet(c)
            except socket.timeout:
                continue
            if typ is None:
                break
            if typ >> 4 != 3:
                continue
            tl = struct.unpack(">H", b[:2])[0]
            topic = b[2:2 + tl].decode()
            qos = (typ >> 1) & 3
            pid = struct.unpack(">H", b[2 + tl:4 + tl])[0] if qos else 0
            payload = b[4 + tl:] if qos else b[2 + tl:]
            pubs.append((topic, payload, bool(typ & 8), pid))
            if n > 1 and qos == 1:
                c.sendall(b"\x40\x02" + struct.pack(">H", pid))
        c.shutdown(socket.SHUT_RDWR)

    fake = FakeRemote(behave)
    try:
        srv = te(bridge_conf("win", fake.port, ["w/# out 1"], cid="te-win"))
        wait_state(srv.mqtt_port, "te-win", b"1")
        pub = Client(srv.mqtt_port, "wpub")
        for i in range(30):
            pub.pub("w/x", b"%d" % i, 1)
        deadline = time.time() + 8
        while time.time() < deadline and len([p for p in seen.get(2, []) if p[0] == "w/x"]) < 30:
            time.sleep(0.1)
        first = [p for p in seen[1] if p[0] == "w/x"]
        notif1 = [p for p in seen[1] if p[0].startswith("$SYS/")]
        assert len(first) + len(notif1) == 20  # the window (the state notification takes a slot)
        assert [p[1] for p in first] == [b"%d" % i for i in range(len(first))]
        assert not any(p[2] for p in first)
        second = [p for p in seen[2] if p[0] == "w/x"]
        assert [p[1] for p in second] == [b"%d" % i for i in range(30)]
        k = len(first)
        assert all(p[2] for p in second[:k]) and [p[3] for p in second[:k]] == [p[3] for p in first]
        assert not any(p[2] for p in second[k:])
        pub.close()
        log = stop_clean(srv)
        assert "resent=%d" % k in log
    finally:
        fake.close()


def test_tls_bridge_with_client_certificate(te, mosq, tmp_path):
    certs = make_certs(tmp_path)
    tls_port = free_port()
    m = mosq(extra="listener %d 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\n" % (
        tls_port, certs["ca.crt"], certs["server.crt"], certs["server.key"])).start()
    wait_port(tls_port)
    srv = te(bridge_conf("tls", tls_port, ["sec/# both 1"], cid="te-tls",
                         extra="bridge_cafile %s\nbridge_certfile %s\nbridge_keyfile %s\n" % (
                             certs["ca.crt"], certs["client.crt"], certs["client.key"])))
    wait_state(m.port, "te-tls", b"1")
    msub = Client(m.port, "msub-tls")
    msub.sub("sec/#", 1)
    Client(srv.mqtt_port, "tpub-tls").pub("sec/a", b"over tls", 1)
    g = msub.get()
    assert (g.topic, g.payload) == ("sec/a", b"over tls")
    msub.close()
    assert "kind=tls" in srv.logtext()
