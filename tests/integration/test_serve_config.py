"""`tinyedge serve` configuration: flags, an INI file with the same keys, and what it refuses."""
import subprocess

from conftest import TE_BIN, Server, free_port, free_udp_port, wait_port
from mqttc import Client, V5


def test_serve_help_lists_every_option():
    out = subprocess.run([TE_BIN, "serve", "--help"], capture_output=True, text=True, timeout=10).stdout
    for flag in ("--data-dir", "--bind", "--mqtt-port", "--http-port", "--config", "--mqtt-fsync",
                 "--mqtt-password-file", "--mqtt-acl-file", "--mqtt-ws-port", "--mqtt-tls-port"):
        assert flag in out, flag


def test_ini_file_with_sections(tmp_path):
    mqtt_port, http_port = free_port(), free_port()
    ini = tmp_path / "tinyedge.ini"
    ini.write_text("; tinyedge configuration\n"
                   "data_dir = %s\n"
                   "bind = 127.0.0.1\n"
                   "http_port = %d\n"
                   "[mqtt]\n"
                   "port = %d\n"
                   "max_inflight_messages = 7\n"
                   "fsync = always\n"
                   "unknown_thing = 1\n"
                   "[lorawan]\n"
                   "udp_port = %d\n" % (tmp_path / "d", http_port, mqtt_port, free_udp_port()))
    srv = Server(tmp_path)
    srv.mqtt_port, srv.http_port = mqtt_port, http_port
    srv.cmdline = lambda: [TE_BIN, "serve", "--config", str(ini)]
    srv.start()
    try:
        c = Client(mqtt_port, "ini", V5)
        assert c.connack_props.ReceiveMaximum == 7
        status, _ = srv.http_get("/health")
        assert status == 200
        assert "key=mqtt_unknown_thing" in srv.logtext()
        assert "persistence=always" in srv.logtext()
    finally:
        assert srv.stop() == 0


def test_bad_values_are_refused():
    for args in (["--mqtt-port", "lots"], ["--no-such-flag"], ["--mqtt-fsync", "sometimes", "--mqtt-port", "0",
                                                               "--http-port", "0"]):
        r = subprocess.run([TE_BIN, "serve"] + args, capture_output=True, text=True, timeout=10)
        assert r.returncode != 0, args
