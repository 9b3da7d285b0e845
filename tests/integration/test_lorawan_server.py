"""LoRaWAN network/join/application server end to end: frames made by an independent
implementation (npm lora-packet) sent by UDP 'gateways' (Semtech packet forwarder v2), output
checked on MQTT with paho-mqtt as The Things Stack v3 publishes it."""
import base64
import re
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import TE_BIN, Server
from lwtest import Collector, Gateway, Peer

APPKEY = "2b7e151628aed2a6abf7158809cf4f3c"
JOINEUI = "70b3d57ed0000001"
DEVEUI = "0004a30b001c0530"
ABP_ADDR = "26011bda"
ABP_NWK = "44024241ed4ce9a68c6a8bc055233fd3"
ABP_APP = "ec925802ae430ca77fd3dd73cb2cc588"


def cli(data_dir, *args):
    r = subprocess.run([TE_BIN, "lorawan"] + list(args) + ["--data-dir", data_dir], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


@pytest.fixture
def lw(tmp_path):
    srv = Server(tmp_path, args=["--lorawan-dedup-ms", "150"])
    out = cli(srv.data_dir, "app", "add", "--app", "lab", "--formatter", "lpp")
    m = re.search(r"NNSXS\.[0-9A-Z.]+", out)
    srv.api_key = m.group(0) if m else None
    cli(srv.data_dir, "device", "add", "--app", "lab", "--dev", "node1", "--dev-eui", DEVEUI, "--join-eui", JOINEUI,
        "--app-key", APPKEY)
    cli(srv.data_dir, "device", "add", "--app", "lab", "--dev", "abp1", "--dev-eui", "0004a30b001c0531",
        "--join-eui", JOINEUI, "--dev-addr", ABP_ADDR, "--nwk-s-key", ABP_NWK, "--app-s-key", ABP_APP)
    srv.start()
    peer = Peer()
    gws = [Gateway(srv.udp_port, "b827ebfffe00000%d" % i, tmst0=1000000 * (i + 1)) for i in range(3)]
    for g in gws:
        g.pull()
    mq = Collector(srv.mqtt_port)
    yield srv, peer, gws, mq
    mq.close()
    for g in gws:
        g.close()
    peer.close()
    rc = srv.stop()
    log = srv.logtext()
    assert rc == 0, log[-3000:]
    assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-3000:]


def push_all(gws, phy, snrs=(2.0, 9.5, -3.0), datr="SF7BW125", freq=868.1):
    """every gateway hears the frame; returns each gateway's tmst"""
    return [g.push(phy, rssi=-40 - 10 * i, lsnr=snrs[i], datr=datr, freq=freq) for i, g in enumerate(gws)]


def join(peer, gws, mq, devnonce=1):
    jr = bytes.fromhex(peer(op="join_request", appkey=APPKEY, joineui=JOINEUI, deveui=DEVEUI, devnonce=devnonce)["phy"])
    tm = push_all(gws, jr)
    tx = gws[1].pull_resp(timeout=3)  # gateway 1 has the best SNR
    assert tx is not None, "no join accept"
    assert tx["tmst"] == (tm[1] + 5000000) & 0xFFFFFFFF
    assert tx["freq"] == pytest.approx(868.1) and tx["datr"] == "SF7BW125" and tx["ipol"] is True
    ja = peer(op="join_accept", appkey=APPKEY, phy=tx["_phy"].hex(), devnonce=devnonce)
    assert ja["mic_ok"]
    gws[1].tx_ack(tx)
    topic, msg = mq.get("/join")
    assert topic == "v3/lab@ttn/devices/node1/join", topic
    assert msg["end_device_ids"]["dev_eui"] == DEVEUI.upper()
    assert msg["end_device_ids"]["dev_addr"] == ja["devaddr"].upper()
    assert "session_key_id" in msg["join_accept"]
    return ja


def up(peer, sess, fcnt, payload, fport=1, confirmed=False, adr=False, ack=False, fopts=""):
    return bytes.fromhex(peer(op="up", mtype="Confirmed Data Up" if confirmed else "Unconfirmed Data Up",
                              devaddr=sess["devaddr"], nwkskey=sess["nwkskey"], appskey=sess["appskey"], fcnt=fcnt,
                              fport=fport, payload=payload, adr=adr, ack=ack, fopts=fopts)["phy"])


def metrics(srv):
    _, text = srv.http_get("/metrics")
    return {l.split()[0]: float(l.split()[1]) for l in text.splitlines() if l and not l.startswith("#")}


def test_join_uplink_decoded_and_deduplicated(lw):
    srv, peer, gws, mq = lw
    sess = join(peer, gws, mq)
    assert sess["netid"] == "000013" and sess["rxdelay"] == 1
    # EU868 CFList: the five extra channels of The Things Network
    assert sess["cflist"].startswith("184f84")
    phy = up(peer, sess, 1, "0167011002683e")  # temperature 27.2, humidity 31
    push_all(gws, phy)
    topic, msg = mq.get("/up")
    assert topic == "v3/lab@ttn/devices/node1/up"
    u = msg["uplink_message"]
    assert u["f_port"] == 1 and u["f_cnt"] == 1
    assert base64.b64decode(u["frm_payload"]) == bytes.fromhex("0167011002683e")
    assert u["decoded_payload"] == {"temperature_1": 27.2, "relative_humidity_2": 31}
    assert len(u["rx_metadata"]) == 3
    assert {m["gateway_ids"]["eui"] for m in u["rx_metadata"]} == {g.eui.hex().upper() for g in gws}
    assert u["settings"]["data_rate"]["lora"]["spreading_factor"] == 7
    assert u["settings"]["frequency"] == "868100000"
    assert u["consumed_airtime"].endswith("s")
    assert msg["end_device_ids"]["device_id"] == "node1"
    assert msg["end_device_ids"]["application_ids"]["application_id"] == "lab"
    # the same frame again (a late duplicate / NbTrans repetition): not published twice
    gws[0].push(phy)
    t2, _ = mq.get("/up", timeout=0.8)
    assert t2 is None
    # unconfirmed uplink without anything to say: no downlink
    assert gws[1].pull_resp(timeout=0.3) is None
    m = metrics(srv)
    assert m["tinyedge_lorawan_uplinks_total"] == 1
    assert m["tinyedge_lorawan_joins_total"] == 1


def test_devnonce_replay_and_bad_input(lw):
    srv, peer, gws, mq = lw
    join(peer, gws, mq, devnonce=7)
    # the same JoinRequest again: refused (DevNonce already used)
    jr = bytes.fromhex(peer(op="join_request", appkey=APPKEY, joineui=JOINEUI, deveui=DEVEUI, devnonce=7)["phy"])
    push_all(gws, jr)
    assert gws[1].pull_resp(timeout=0.8) is None
    # wrong AppKey
    bad = bytes.fromhex(peer(op="join_request", appkey="00" * 16, joineui=JOINEUI, deveui=DEVEUI, devnonce=8)["phy"])
    push_all(gws, bad)
    # garbage datagrams, truncated frames, unknown DevAddr, malformed JSON
    s = gws[0].s
    for junk in (b"", b"\x02", b"\x02\x00\x01\x00" + b"\x00" * 8 + b"{not json", b"\xff" * 100,
                 b"\x02\x00\x02\x00" + gws[0].eui + b'{"rxpk":[{"data":"!!"}]}'):
        s.sendto(junk, ("127.0.0.1", srv.udp_port))
    gws[0].push(b"\x40\x01\x02")  # 3 bytes: not a frame
    gws[0].push(up(peer, {"devaddr": "01020304", "nwkskey": ABP_NWK, "appskey": ABP_APP}, 1, "00"))
    time.sleep(0.5)
    m = metrics(srv)
    assert m["tinyedge_lorawan_devnonce_replays_total"] == 1
    assert m["tinyedge_lorawan_mic_failures_total"] >= 1
    assert m["tinyedge_lorawan_bad_datagrams_total"] >= 3
    assert m["tinyedge_lorawan_unknown_devaddr_total"] == 1
    # still serving
    gws[2].pull()


def test_abp_fcnt_replay_rejected(lw):
    srv, peer, gws, mq = lw
    sess = {"devaddr": ABP_ADDR, "nwkskey": ABP_NWK, "appskey": ABP_APP}
    for f in (10, 11):
        push_all(gws, up(peer, sess, f, "0167ff9c"))  # -10.0 degrees
        _, msg = mq.get("/up")
        assert msg["uplink_message"]["f_cnt"] == f
        assert msg["uplink_message"]["decoded_payload"] == {"temperature_1": -10}
    push_all(gws, up(peer, sess, 5, "0167ff9c"))  # an old FCnt: replay
    t, _ = mq.get("/up", timeout=0.8)
    assert t is None
    assert metrics(srv)["tinyedge_lorawan_fcnt_replays_total"] == 1
    # the 32-bit FCnt is reconstructed from the 16 bits on air, across the 65536 boundary
    for f in (65530, 65540):
        push_all(gws, up(peer, sess, f, "0167ff9c"))
        _, msg = mq.get("/up")
        assert msg["uplink_message"]["f_cnt"] == f


ABP_SESS = {"devaddr": ABP_ADDR, "nwkskey": ABP_NWK, "appskey": ABP_APP}


def test_confirmed_uplink_and_confirmed_downlink(lw):
    # (the ABP device: after a join, the gateway's 1 % duty cycle spent on the join accept would
    # push the first downlinks to RX2, which is right but not what this test looks at)
    srv, peer, gws, mq = lw
    sess = ABP_SESS
    # queue a confirmed downlink over MQTT, as a TTS script would
    mq.publish("v3/lab@ttn/devices/abp1/down/push",
               {"downlinks": [{"f_port": 15, "frm_payload": base64.b64encode(b"\x01\x02\x03").decode(),
                               "confirmed": True}]})
    _, q = mq.get("/down/queued")
    assert q["downlink_queued"]["f_port"] == 15
    # a confirmed uplink: the downlink carries the ACK and the queued payload, in RX1
    tm = push_all(gws, up(peer, sess, 1, "0167011a", confirmed=True))
    tx = gws[1].pull_resp(timeout=3)
    assert tx is not None
    assert tx["tmst"] == (tm[1] + 1000000) & 0xFFFFFFFF
    d = peer(op="down", phy=tx["_phy"].hex(), nwkskey=sess["nwkskey"], appskey=sess["appskey"])
    assert d["mic_ok"] and d["ack"] and d["mtype"] == "Confirmed Data Down"
    assert d["fport"] == 15 and d["payload"] == "010203"
    gws[1].tx_ack(tx)
    _, sent = mq.get("/down/sent")
    assert sent["downlink_sent"]["f_port"] == 15
    # the device acknowledges in its next uplink
    push_all(gws, up(peer, sess, 2, "0167011a", ack=True))
    _, a = mq.get("/down/ack")
    assert a is not None and a["downlink_ack"]["f_port"] == 15


def test_downlink_decoded_payload_and_rx2_fallback(lw):
    srv, peer, gws, mq = lw
    sess = ABP_SESS
    # LPP downlink format of TTS: value_<channel> -> int16 * 100
    mq.publish("v3/lab@ttn/devices/abp1/down/push", {"downlinks": [{"f_port": 3, "decoded_payload": {"value_1": 2.5}}]})
    mq.get("/down/queued")
    tm = push_all(gws, up(peer, sess, 1, "0167011a"))
    tx = gws[1].pull_resp(timeout=3)
    assert tx is not None
    # the gateway says RX1 is too late: the same frame goes again in RX2 (869.525 MHz, SF12)
    gws[1].tx_ack(tx, "TOO_LATE")
    tx2 = gws[1].pull_resp(timeout=2)
    assert tx2 is not None
    assert tx2["tmst"] == (tm[1] + 2000000) & 0xFFFFFFFF
    assert tx2["freq"] == pytest.approx(869.525) and tx2["datr"] == "SF12BW125"
    d = peer(op="down", phy=tx2["_phy"].hex(), nwkskey=sess["nwkskey"], appskey=sess["appskey"])
    assert d["mic_ok"] and d["fport"] == 3 and d["payload"] == "0100fa"
    gws[1].tx_ack(tx2)
    assert mq.get("/down/sent")[1] is not None


def test_adr_converges(lw):
    srv, peer, gws, mq = lw
    sess = join(peer, gws, mq)
    # SF12 with a strong signal: ADR raises the data rate (ChirpStack's algorithm)
    req = None
    for f in range(1, 25):
        push_all(gws, up(peer, sess, f, "0167011a", adr=True), snrs=(5.0, 8.0, 1.0), datr="SF12BW125")
        tx = gws[1].pull_resp(timeout=0.6)
        if tx is not None:
            d = peer(op="down", phy=tx["_phy"].hex(), nwkskey=sess["nwkskey"], appskey=sess["appskey"])
            gws[1].tx_ack(tx)
            fopts = d["fopts"] or (d["payload"] if d["fport"] == 0 else "")
            if fopts.startswith("03"):
                req = fopts
                break
    assert req is not None, "no LinkADRReq"
    dr = int(req[2:4], 16) >> 4
    assert dr == 5  # SF7
    # the device answers LinkADRAns (all three bits) and moves to SF7: no new request
    # (a weak SNR at SF7 leaves no margin for a further power step)
    push_all(gws, up(peer, sess, 30, "0167011a", adr=True, fopts="0307"), snrs=(0.0, -1.0, -2.0), datr="SF7BW125")
    tx = gws[1].pull_resp(timeout=0.6)
    if tx is not None:
        d = peer(op="down", phy=tx["_phy"].hex(), nwkskey=sess["nwkskey"], appskey=sess["appskey"])
        assert not d["fopts"].startswith("03"), d
    _, msg = mq.get("/up")
    assert msg is not None


def test_app_api_key_limits_mqtt_access(lw):
    srv, peer, gws, mq = lw
    assert srv.api_key, "app add printed no API key"
    own = Collector(srv.mqtt_port, "v3/lab@ttn/devices/+/up", username="lab@ttn", password=srv.api_key)
    try:
        assert own.granted[0] == 1
    finally:
        own.close()
    other = Collector(srv.mqtt_port, "v3/other@ttn/devices/+/up", username="lab@ttn", password=srv.api_key)
    try:
        assert other.granted[0] == 128  # refused
    finally:
        other.close()
    with pytest.raises(Exception):
        Collector(srv.mqtt_port, "v3/#", username="lab@ttn", password="NNSXS.WRONG")


JS_OK = """
function decodeUplink(input) {
  var t = (input.bytes[0] << 8 | input.bytes[1]) / 100;
  var w = [];
  if (t > 50) w.push("hot");
  return { data: { temperature: t, port: input.fPort }, warnings: w };
}
function encodeDownlink(input) { return { bytes: [input.data.level & 255], fPort: 9 }; }
"""
JS_LOOP = "function decodeUplink(input) { while (true) {} }"


def test_js_formatters_and_registry_changes_while_running(lw, tmp_path):
    srv, peer, gws, mq = lw
    ok, loop = tmp_path / "ok.js", tmp_path / "loop.js"
    ok.write_text(JS_OK)
    loop.write_text(JS_LOOP)
    # devices and applications added while the server runs are picked up without a restart
    cli(srv.data_dir, "app", "add", "--app", "js-app", "--formatter", "js:%s" % ok)
    cli(srv.data_dir, "device", "add", "--app", "js-app", "--dev", "js1", "--dev-eui", "0004a30b001c0540",
        "--join-eui", JOINEUI, "--dev-addr", "26011c00", "--nwk-s-key", ABP_NWK, "--app-s-key", ABP_APP)
    cli(srv.data_dir, "device", "add", "--app", "js-app", "--dev", "js2", "--dev-eui", "0004a30b001c0541",
        "--join-eui", JOINEUI, "--dev-addr", "26011c01", "--nwk-s-key", ABP_NWK, "--app-s-key", ABP_APP,
        "--formatter", "js:%s" % loop)
    time.sleep(1.6)
    s1 = {"devaddr": "26011c00", "nwkskey": ABP_NWK, "appskey": ABP_APP}
    push_all(gws, up(peer, s1, 1, "1450", fport=4))  # 0x1450 = 5200 -> 52.0
    topic, msg = mq.get("/up")
    assert topic == "v3/js-app@ttn/devices/js1/up"
    u = msg["uplink_message"]
    assert u["decoded_payload"] == {"temperature": 52, "port": 4}
    assert u["decoded_payload_warnings"] == ["hot"]
    # a formatter that never returns: the uplink is still delivered, with the error, and the server goes on
    s2 = {"devaddr": "26011c01", "nwkskey": ABP_NWK, "appskey": ABP_APP}
    push_all(gws, up(peer, s2, 1, "00", fport=4))
    topic, msg = mq.get("/up")
    assert topic == "v3/js-app@ttn/devices/js2/up"
    assert "decoded_payload" not in msg["uplink_message"]
    assert "time" in " ".join(msg["uplink_message"].get("decoded_payload_errors", [])).lower()
    # encodeDownlink through MQTT
    mq.publish("v3/js-app@ttn/devices/js1/down/push", {"downlinks": [{"decoded_payload": {"level": 7}, "f_port": 9}]})
    _, q = mq.get("/down/queued")
    assert base64.b64decode(q["downlink_queued"]["frm_payload"]) == b"\x07"
    push_all(gws, up(peer, s1, 2, "0a00", fport=4))
    tx = gws[1].pull_resp(timeout=3)
    d = peer(op="down", phy=tx["_phy"].hex(), nwkskey=ABP_NWK, appskey=ABP_APP)
    assert d["mic_ok"] and d["fport"] == 9 and d["payload"] == "07"
    assert mq.get("/up")[1]["uplink_message"]["f_cnt"] == 2
    # removed devices stop being served
    cli(srv.data_dir, "device", "remove", "--app", "js-app", "--dev", "js1")
    time.sleep(1.6)
    push_all(gws, up(peer, s1, 3, "0a00", fport=4))
    t, _ = mq.get("/up", timeout=0.8)
    assert t is None


def test_sessions_survive_kill9(lw):
    srv, peer, gws, mq = lw
    sess = join(peer, gws, mq)
    push_all(gws, up(peer, sess, 1, "0167011a"))
    assert mq.get("/up")[1] is not None
    time.sleep(1.6)  # sessions are written back every second
    mq.close()
    srv.kill9()
    srv.start()
    for g in gws:
        g.pull()
    mq2 = Collector(srv.mqtt_port)
    try:
        # the joined session and its FCnt survived: an old frame is a replay, the next one works
        push_all(gws, up(peer, sess, 1, "0167011a"))
        assert mq2.get("/up", timeout=0.8)[0] is None
        push_all(gws, up(peer, sess, 2, "0167011a"))
        _, msg = mq2.get("/up")
        assert msg["uplink_message"]["f_cnt"] == 2
    finally:
        mq2.close()


def test_rest_api_needs_the_api_key_when_set(tmp_path):
    srv = Server(tmp_path, args=["--http-api-key", "s3cret"]).start()
    try:
        url = "http://127.0.0.1:%d/api/v1/lorawan/apps" % srv.http_port
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(url, timeout=5)
        assert e.value.code == 401
        req = urllib.request.Request(url, data=b'{"application_id":"rest-app"}', method="POST",
                                     headers={"Authorization": "Bearer s3cret", "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status in (200, 201)
            body = r.read().decode()
            assert "NNSXS." in body
        req = urllib.request.Request(url, headers={"Authorization": "Bearer s3cret"})
        with urllib.request.urlopen(req, timeout=5) as r:
            assert "rest-app" in r.read().decode()
        st = urllib.request.Request("http://127.0.0.1:%d/api/v1/lorawan/status" % srv.http_port,
                                    headers={"Authorization": "Bearer s3cret"})
        with urllib.request.urlopen(st, timeout=5) as r:
            assert '"devices"' in r.read().decode()
    finally:
        assert srv.stop() == 0
