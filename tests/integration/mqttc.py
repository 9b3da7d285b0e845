"""Small helpers over paho-mqtt (Debian's python3-paho-mqtt 1.6) for the integration tests."""
import queue
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes

V311 = mqtt.MQTTv311
V5 = mqtt.MQTTv5


class Client:
    """A paho client on its own network thread, with received messages in a queue."""

    def __init__(self, port, client_id="", proto=V311, clean=True, username=None, password=None,
                 will=None, session_expiry=None, keepalive=60, connect=True, transport="tcp",
                 tls=None, receive_max=None):
        self.proto = proto
        kw = {"client_id": client_id, "protocol": proto, "transport": transport}
        if proto != V5:
            kw["clean_session"] = clean
        self.c = mqtt.Client(**kw)
        if tls:
            self.c.tls_set(**tls)
        if username is not None:
            self.c.username_pw_set(username, password)
        if will:
            self.c.will_set(*will[:3], retain=will[3] if len(will) > 3 else False,
                            properties=will[4] if len(will) > 4 else None)
        self.msgs = queue.Queue()
        self.connack = queue.Queue()
        self.disconnects = queue.Queue()
        self.subacks = queue.Queue()
        self.acks = queue.Queue()
        self.c.on_message = lambda c, u, m: self.msgs.put(m)
        self.c.on_subscribe = lambda c, u, mid, granted, *a: self.subacks.put(granted)
        self.c.on_publish = lambda c, u, mid: self.acks.put(mid)
        if proto == V5:
            self.c.on_connect = lambda c, u, flags, rc, props=None: self.connack.put((flags, rc, props))
            self.c.on_disconnect = lambda c, u, rc, props=None: self.disconnects.put((rc, props))
        else:
            self.c.on_connect = lambda c, u, flags, rc: self.connack.put((flags, rc, None))
            self.c.on_disconnect = lambda c, u, rc: self.disconnects.put((rc, None))
        self.port = port
        self.keepalive = keepalive
        self.props = None
        if proto == V5:
            self.props = Properties(PacketTypes.CONNECT)
            if session_expiry is not None:
                self.props.SessionExpiryInterval = session_expiry
            if receive_max is not None:
                self.props.ReceiveMaximum = receive_max
        self.clean = clean
        if connect:
            self.connect()

    def connect(self, timeout=5):
        if self.proto == V5:
            self.c.connect("127.0.0.1", self.port, self.keepalive, clean_start=self.clean,
                           properties=self.props)
        else:
            self.c.connect("127.0.0.1", self.port, self.keepalive)
        self.c.loop_start()
        flags, rc, props = self.connack.get(timeout=timeout)
        self.flags, self.rc, self.connack_props = flags, rc, props
        return rc

    def sub(self, topic, qos=0, timeout=5, **kw):
        if self.proto == V5:
            from paho.mqtt.subscribeoptions import SubscribeOptions
            opts = SubscribeOptions(qos=qos, noLocal=kw.get("no_local", False),
                                    retainAsPublished=kw.get("rap", False),
                                    retainHandling=kw.get("rh", 0))
            self.c.subscribe(topic, options=opts, properties=kw.get("props"))
        else:
            self.c.subscribe(topic, qos)
        return self.subacks.get(timeout=timeout)

    def pub(self, topic, payload, qos=0, retain=False, props=None, wait=True):
        info = self.c.publish(topic, payload, qos, retain, properties=props) if self.proto == V5 \
            else self.c.publish(topic, payload, qos, retain)
        if wait and qos > 0:
            info.wait_for_publish(5)
            assert info.is_published()
        return info

    def get(self, timeout=5):
        return self.msgs.get(timeout=timeout)

    def none(self, wait=0.5):
        time.sleep(wait)
        return self.msgs.empty()

    def close(self):
        self.c.disconnect()
        self.c.loop_stop()

    def drop(self):
        """Vanish without DISCONNECT (the will fires)."""
        self.c._sock.close() if self.c._sock else None
        self.c.loop_stop()
