"""Helpers for the LoRaWAN integration tests: an independent device (lora-packet through
lw_peer.js), Semtech UDP gateways played by plain sockets, and an MQTT collector (paho-mqtt)."""
import base64
import json
import os
import queue
import socket
import struct
import subprocess
import time

import paho.mqtt.client as paho

HERE = os.path.dirname(os.path.abspath(__file__))


class Peer:
    """lora-packet, one JSON request per line."""

    def __init__(self):
        self.p = subprocess.Popen(["node", os.path.join(HERE, "lw_peer.js")], cwd=os.path.dirname(HERE),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def __call__(self, **req):
        self.p.stdin.write(json.dumps(req) + "\n")
        self.p.stdin.flush()
        out = json.loads(self.p.stdout.readline())
        assert "error" not in out, out
        return out

    def close(self):
        self.p.stdin.close()
        self.p.wait(5)


class Gateway:
    """A packet forwarder (protocol v2) on its own UDP socket."""

    def __init__(self, port, eui_hex, tmst0=1000000):
        self.port = port
        self.eui = bytes.fromhex(eui_hex)
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(0.05)
        self.token = 0
        self.tmst = tmst0
        self.pending = []  # datagrams received but not yet consumed

    def _send(self, ident, body=b""):
        self.token = (self.token + 1) & 0xFFFF
        d = bytes([2]) + struct.pack(">H", self.token) + bytes([ident]) + self.eui + body
        self.s.sendto(d, ("127.0.0.1", self.port))
        return self.token

    def recv(self, timeout=1.0):
        if self.pending:
            return self.pending.pop(0)
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                d, _ = self.s.recvfrom(4096)
                return d
            except socket.timeout:
                pass
        return None

    def expect(self, ident, timeout=2.0, token=None):
        """the next datagram with this identifier (and token); others are kept for later"""
        deadline = time.time() + timeout
        keep = []
        try:
            while time.time() < deadline:
                d = self.recv(max(0.01, deadline - time.time()))
                if d is None:
                    continue
                if len(d) >= 4 and d[3] == ident and (token is None or d[1:3] == struct.pack(">H", token)):
                    return d
                if len(d) >= 4 and d[3] in (0x01, 0x04) and d[3] == ident:
                    continue  # an acknowledgement of something else: drop it
                keep.append(d)
            return None
        finally:
            self.pending = keep + self.pending

    def pull(self, tries=10):
        """PULL_DATA until PULL_ACK (the server may still be starting)"""
        for _ in range(tries):
            tok = self._send(0x02)
            ack = self.expect(0x04, timeout=0.5)
            if ack is not None:
                assert ack[1:3] == struct.pack(">H", tok), ack
                return ack
        raise AssertionError("no PULL_ACK")

    def push(self, phy, rssi=-60, lsnr=7.5, datr="SF7BW125", freq=868.1, tmst=None):
        self.tmst = (self.tmst + 3000000) & 0xFFFFFFFF if tmst is None else tmst
        rx = {"tmst": self.tmst, "chan": 0, "rfch": 0, "freq": freq, "stat": 1, "modu": "LORA", "datr": datr,
              "codr": "4/5", "rssi": rssi, "lsnr": lsnr, "size": len(phy),
              "data": base64.b64encode(phy).decode()}
        tok = self._send(0x00, json.dumps({"rxpk": [rx]}).encode())
        ack = self.expect(0x01, token=tok)
        assert ack is not None and ack[1:3] == struct.pack(">H", tok), "no PUSH_ACK"
        return self.tmst

    def pull_resp(self, timeout=2.0):
        d = self.expect(0x03, timeout)
        if d is None:
            return None
        txpk = json.loads(d[4:].rstrip(b"\0"))["txpk"]
        txpk["_token"] = d[1:3]
        txpk["_phy"] = base64.b64decode(txpk["data"])
        return txpk

    def tx_ack(self, txpk, error=None):
        body = json.dumps({"txpk_ack": {"error": error or "NONE"}}).encode()
        d = bytes([2]) + txpk["_token"] + bytes([0x05]) + self.eui + body
        self.s.sendto(d, ("127.0.0.1", self.port))

    def close(self):
        self.s.close()


class Collector:
    """MQTT subscriber collecting (topic, json) pairs."""

    seq = 0

    def __init__(self, port, topic="v3/#", username=None, password=None):
        self.q = queue.Queue()
        Collector.seq += 1  # distinct ids: two clients with one id would take each other's session over
        self.c = paho.Client(client_id="lw-collector-%d-%d" % (os.getpid(), Collector.seq), protocol=paho.MQTTv311)
        if username:
            self.c.username_pw_set(username, password)
        self.sub_result = queue.Queue()
        self.c.on_message = lambda c, u, m: self.q.put((m.topic, m.payload))
        self.c.on_subscribe = lambda c, u, mid, granted: self.sub_result.put(granted)
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        self.c.subscribe(topic, 1)
        self.granted = self.sub_result.get(timeout=5)

    def get(self, suffix, timeout=3.0):
        """next message whose topic ends with suffix (earlier others are dropped)"""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                t, p = self.q.get(timeout=max(0.01, deadline - time.time()))
            except queue.Empty:
                break
            if t.endswith(suffix):
                return t, json.loads(p)
        return None, None

    def publish(self, topic, obj):
        self.c.publish(topic, json.dumps(obj), 1).wait_for_publish()

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()
