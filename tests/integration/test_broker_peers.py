"""The broker against real peers: Debian's mosquitto_pub/mosquitto_sub and paho-mqtt (3.1.1 and 5)."""
import json
import subprocess
import time

import pytest
from mqttc import Client, V311, V5, Properties, PacketTypes


def test_health_and_metrics(server):
    status, body = server.http_get("/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    c = Client(server.mqtt_port, "metrics-1")
    c.sub("m/#", 1)
    c.pub("m/x", b"hello", 1)
    assert c.get().payload == b"hello"
    status, body = server.http_get("/metrics")
    assert status == 200
    metrics = {l.split()[0]: float(l.split()[1]) for l in body.splitlines() if l and not l.startswith("#")}
    assert metrics["tinyedge_mqtt_clients_connected"] == 1
    assert metrics["tinyedge_mqtt_messages_received_total"] >= 1
    assert metrics["tinyedge_mqtt_subscriptions"] == 1
    c.close()


def test_mosquitto_pub_sub_roundtrip(server):
    sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(server.mqtt_port), "-t", "demo/#",
                            "-C", "3", "-v", "-q", "1"], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    for i, (v, q) in enumerate([("mqttv31", 0), ("mqttv311", 1), ("mqttv5", 2)]):
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(server.mqtt_port), "-V", v,
                        "-t", "demo/%d" % i, "-m", "msg %d" % i, "-q", str(q)], check=True, timeout=10)
    out, _ = sub.communicate(timeout=10)
    assert out.splitlines() == ["demo/0 msg 0", "demo/1 msg 1", "demo/2 msg 2"]


@pytest.mark.parametrize("proto", [V311, V5])
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_paho_qos_roundtrip_in_order(server, proto, qos):
    sub = Client(server.mqtt_port, "sub-%d-%d" % (proto, qos), proto)
    assert sub.sub("t/#", qos) is not None
    pub = Client(server.mqtt_port, "pub-%d-%d" % (proto, qos), proto)
    n = 200
    for i in range(n):
        pub.pub("t/%d" % (i % 3), b"%d" % i, qos, wait=False)
    got = [int(sub.get().payload) for _ in range(n)]
    assert got == list(range(n))
    pub.close()
    sub.close()


def test_retained_and_delete(server):
    pub = Client(server.mqtt_port, "rp")
    pub.pub("r/a", b"A", 1, retain=True)
    pub.pub("r/b", b"B", 1, retain=True)
    pub.pub("r/b", b"", 1, retain=True)  # delete
    s = Client(server.mqtt_port, "rs")
    s.sub("r/+", 1)
    m = s.get()
    assert (m.topic, m.payload, m.retain) == ("r/a", b"A", 1)
    assert s.none()
    s.close()
    pub.close()


def test_overlapping_subscriptions_one_copy_highest_qos_v311(server):
    s = Client(server.mqtt_port, "ov")
    s.sub("o/#", 0)
    s.sub("o/+", 2)
    p = Client(server.mqtt_port, "op")
    p.pub("o/x", b"1", 2)
    m = s.get()
    assert m.qos == 2
    assert s.none()


def test_will_on_unclean_close(server):
    w = Client(server.mqtt_port, "watcher")
    w.sub("wills/#", 1)
    dying = Client(server.mqtt_port, "dying", will=("wills/dying", b"gone", 1))
    dying.drop()
    m = w.get(timeout=10)
    assert (m.topic, m.payload) == ("wills/dying", b"gone")


def test_no_will_on_disconnect(server):
    w = Client(server.mqtt_port, "watcher2")
    w.sub("wills/#", 1)
    c = Client(server.mqtt_port, "polite", will=("wills/polite", b"gone", 1))
    c.close()
    assert w.none(1.0)


def test_v5_properties_pass_through(server):
    s = Client(server.mqtt_port, "p5s", V5)
    s.sub("p/#", 1)
    p = Client(server.mqtt_port, "p5p", V5)
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = [("k1", "v1"), ("k2", "v2")]
    props.ContentType = "application/json"
    props.ResponseTopic = "reply/here"
    props.CorrelationData = b"\x01\x02"
    props.PayloadFormatIndicator = 1
    props.MessageExpiryInterval = 60
    p.pub("p/1", b"{}", 1, props=props)
    m = s.get()
    assert m.properties.UserProperty == [("k1", "v1"), ("k2", "v2")]
    assert m.properties.ContentType == "application/json"
    assert m.properties.ResponseTopic == "reply/here"
    assert m.properties.CorrelationData == b"\x01\x02"
    assert m.properties.PayloadFormatIndicator == 1
    assert 0 < m.properties.MessageExpiryInterval <= 60


def test_v5_subscription_identifier_and_no_local(server):
    c = Client(server.mqtt_port, "sid", V5)
    props = Properties(PacketTypes.SUBSCRIBE)
    props.SubscriptionIdentifier = 42
    c.sub("s/#", 1, props=props)
    c.sub("nl/#", 1, no_local=True)
    other = Client(server.mqtt_port, "sid-other", V5)
    other.pub("s/1", b"x", 1)
    m = c.get()
    assert m.properties.SubscriptionIdentifier == [42]
    c.pub("nl/1", b"mine", 1)
    assert c.none()


def test_v5_shared_subscription(server):
    a = Client(server.mqtt_port, "sa", V5)
    b = Client(server.mqtt_port, "sb", V5)
    a.sub("$share/g/jobs/#", 1)
    b.sub("$share/g/jobs/#", 1)
    p = Client(server.mqtt_port, "sp", V5)
    for i in range(10):
        p.pub("jobs/%d" % i, b"%d" % i, 1)
    time.sleep(0.5)
    na, nb = a.msgs.qsize(), b.msgs.qsize()
    assert na + nb == 10 and na > 0 and nb > 0


def test_sys_topics(server):
    c = Client(server.mqtt_port, "sys")
    c.sub("$SYS/broker/uptime", 0)
    m = c.get(timeout=5)
    assert m.payload.endswith(b"seconds")
    c.sub("$SYS/broker/clients/connected", 0)
    m = c.get(timeout=5)
    while m.topic != "$SYS/broker/clients/connected":
        m = c.get(timeout=5)
    assert int(m.payload) >= 1


def test_persistent_session_survives_kill9(server):
    sub = Client(server.mqtt_port, "durable", V311, clean=False)
    sub.sub("d/#", 1)
    sub.close()
    pub = Client(server.mqtt_port, "dpub")
    for i in range(50):
        pub.pub("d/x", b"%d" % i, 1)  # PUBACKed: must survive
    pub.close()
    server.kill9()
    server.start()
    sub2 = Client(server.mqtt_port, "durable", V311, clean=False)
    assert sub2.flags["session present"] == 1
    got = [int(sub2.get().payload) for _ in range(50)]
    assert got == list(range(50))


def test_retained_and_qos2_survive_kill9(server):
    p = Client(server.mqtt_port, "rk-pub", V5)
    p.pub("state/door", b"open", 2, retain=True)
    sub = Client(server.mqtt_port, "rk-sub", V5, clean=False, session_expiry=3600)
    sub.sub("q2/#", 2)
    sub.close()
    for i in range(20):
        p.pub("q2/x", b"%d" % i, 2)  # PUBREC'd: must survive
    p.close()
    server.kill9()
    server.start()
    r = Client(server.mqtt_port, "rk-late", V5)
    r.sub("state/#", 1)
    m = r.get()
    assert (m.topic, m.payload, m.retain) == ("state/door", b"open", 1)
    sub2 = Client(server.mqtt_port, "rk-sub", V5, clean=False, session_expiry=3600)
    assert sub2.flags["session present"] == 1
    got = [sub2.get() for _ in range(20)]
    assert [int(m.payload) for m in got] == list(range(20)) and all(m.qos == 2 for m in got)
    assert sub2.none(0.5)  # exactly once


def test_v5_will_delay_and_reconnect(server):
    w = Client(server.mqtt_port, "wd-watch", V5)
    w.sub("wd/#", 1)
    props = Properties(PacketTypes.WILLMESSAGE)
    props.WillDelayInterval = 2
    c = Client(server.mqtt_port, "wd-client", V5, clean=False, session_expiry=60,
               will=("wd/gone", b"late will", 1, False, props))
    c.drop()
    assert w.none(1.0)  # delayed
    again = Client(server.mqtt_port, "wd-client", V5, clean=False, session_expiry=60)
    assert again.flags["session present"] == 1
    assert w.none(2.0)  # reconnected within the delay: no will
    props2 = Properties(PacketTypes.WILLMESSAGE)
    props2.WillDelayInterval = 1
    d = Client(server.mqtt_port, "wd-2", V5, clean=False, session_expiry=60,
               will=("wd/gone2", b"will after delay", 1, False, props2))
    d.drop()
    m = w.get(timeout=5)
    assert (m.topic, m.payload) == ("wd/gone2", b"will after delay")
