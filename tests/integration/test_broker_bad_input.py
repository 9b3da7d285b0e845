"""Hostile and broken clients: the broker answers protocol-correctly (v5 DISCONNECT reason codes,
CONNACK refusals) or closes, logs, and keeps serving everyone else."""
import socket
import struct
import threading
import time

import pytest
from conftest import Server
from mqttc import Client, V5


def varint(n):
    out = b""
    while True:
        b = n % 128
        n //= 128
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def s(x):
    x = x.encode() if isinstance(x, str) else x
    return struct.pack(">H", len(x)) + x


def connect_pkt(cid="raw", ver=4, props=b"", keepalive=60):
    name = s("MQTT") if ver >= 4 else s("MQIsdp")
    body = name + bytes([ver, 0x02]) + struct.pack(">H", keepalive)
    if ver == 5:
        body += varint(len(props)) + props
    body += s(cid)
    return bytes([0x10]) + varint(len(body)) + body


def recv_all(sock, timeout=3.0):
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return data, True  # closed by the broker
            data += chunk
    except socket.timeout:
        return data, False


def raw(server):
    return socket.create_connection(("127.0.0.1", server.mqtt_port))


def alive(server):
    c = Client(server.mqtt_port, "still-alive")
    c.sub("alive", 1)
    c.pub("alive", b"yes", 1)
    assert c.get().payload == b"yes"
    c.close()


def test_garbage_before_connect_is_closed(server):
    sk = raw(server)
    sk.sendall(b"GET / HTTP/1.1\r\n\r\n")
    data, closed = recv_all(sk)
    assert closed
    alive(server)


def test_unknown_protocol_version_gets_connack_1(server):
    sk = raw(server)
    pkt = connect_pkt(ver=4)
    pkt = pkt.replace(bytes([4, 0x02]), bytes([9, 0x02]), 1)
    sk.sendall(pkt)
    data, closed = recv_all(sk)
    assert data[:4] == bytes([0x20, 2, 0, 1]) and closed


def test_v5_wildcard_in_publish_topic_disconnect_0x90(server):
    sk = raw(server)
    sk.sendall(connect_pkt("wild", ver=5))
    data, _ = recv_all(sk, 1)
    assert data[0] == 0x20
    topic = s("a/+/b")
    body = topic + varint(0) + b"x"
    sk.sendall(bytes([0x30]) + varint(len(body)) + body)
    data, closed = recv_all(sk)
    assert data[0] == 0xE0 and data[2] == 0x90 and closed
    alive(server)


def test_v5_malformed_remaining_length_disconnect_0x81(server):
    sk = raw(server)
    sk.sendall(connect_pkt("mal", ver=5))
    recv_all(sk, 1)
    sk.sendall(bytes([0x82, 0xff, 0xff, 0xff, 0xff, 0x01]))  # 5-byte remaining length
    data, closed = recv_all(sk)
    assert data[:1] == b"\xe0" and data[2] == 0x81 and closed
    alive(server)


def test_v5_invalid_utf8_topic(server):
    sk = raw(server)
    sk.sendall(connect_pkt("utf", ver=5))
    recv_all(sk, 1)
    topic = struct.pack(">H", 2) + b"\xc3\x28"
    body = topic + varint(0) + b"x"
    sk.sendall(bytes([0x30]) + varint(len(body)) + body)
    data, closed = recv_all(sk)
    assert data[0] == 0xE0 and data[2] == 0x81 and closed


def test_oversize_packet_disconnect_0x95(tmp_path):
    srv = Server(tmp_path, ["--mqtt-max-packet-size", "1024"]).start()
    try:
        sk = raw(srv)
        sk.sendall(connect_pkt("big", ver=5))
        data, _ = recv_all(sk, 1)
        assert data[0] == 0x20
        body = s("t") + varint(0) + b"x" * 5000
        sk.sendall(bytes([0x30]) + varint(len(body)) + body)
        data, closed = recv_all(sk)
        assert data[0] == 0xE0 and data[2] == 0x95 and closed
        alive(srv)
    finally:
        assert srv.stop() == 0


def test_connect_that_never_finishes_is_dropped(server):
    sk = raw(server)
    pkt = connect_pkt("slow")
    sk.sendall(pkt[:5])  # slowloris: half a CONNECT, then silence
    data, closed = recv_all(sk, 15)
    assert closed and data == b""
    alive(server)


def test_keepalive_enforced_at_one_and_a_half(server):
    sk = raw(server)
    sk.sendall(connect_pkt("ka", ver=5, keepalive=1))
    data, _ = recv_all(sk, 0.5)
    t0 = time.time()
    data, closed = recv_all(sk, 5)
    elapsed = time.time() - t0
    assert closed and data[0] == 0xE0 and data[2] == 0x8D
    assert 1.0 <= elapsed + 0.5 <= 3.0


def test_thousands_of_connects_at_once(server):
    socks = []
    for i in range(2000):
        sk = raw(server)
        sk.sendall(connect_pkt("many-%d" % i))
        socks.append(sk)
    ok = 0
    for sk in socks:
        sk.settimeout(10)
        if sk.recv(4) == bytes([0x20, 2, 0, 0]):
            ok += 1
    assert ok == 2000
    for sk in socks:
        sk.close()
    alive(server)


def test_receive_maximum_exceeded_0x93(tmp_path):
    srv = Server(tmp_path, ["--mqtt-max-inflight-messages", "3"]).start()
    try:
        sk = raw(srv)
        sk.sendall(connect_pkt("rm", ver=5))
        recv_all(sk, 1)
        for pid in range(1, 5):  # QoS 2 without PUBREL: the 4th exceeds receive maximum 3
            body = s("q2") + struct.pack(">H", pid) + varint(0) + b"x"
            sk.sendall(bytes([0x34]) + varint(len(body)) + body)
        data, closed = recv_all(sk)
        assert closed and data.endswith(b"") and b"\xe0" in data
        i = data.index(b"\xe0")
        assert data[i + 2] == 0x93
    finally:
        assert srv.stop() == 0
