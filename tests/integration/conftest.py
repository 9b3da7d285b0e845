"""Integration-test fixtures: each test starts its own `tinyedge` on free ports in a temp data dir
and stops it afterwards. TE_BIN names the binary (the ASan build under `make test`)."""
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TE_BIN = os.environ.get("TE_BIN", os.path.join(ROOT, "build", "asan", "tinyedge"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=15.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d not open after %.0fs" % (port, timeout))


class Server:
    """A running `tinyedge serve` (or `tinyedge broker`)."""

    def __init__(self, tmp_path, args=(), mode="serve", extra_ports=()):
        self.tmp = tmp_path
        self.data_dir = str(tmp_path / "data")
        self.mqtt_port = free_port()
        self.http_port = free_port()
        self.udp_port = free_udp_port()
        self.mode = mode
        self.args = list(args)
        self.extra_ports = dict(extra_ports)
        self.proc = None
        self.log_path = str(tmp_path / ("server-%d.log" % time.time_ns()))

    def cmdline(self):
        if self.mode == "serve":
            return [TE_BIN, "serve", "--data-dir", self.data_dir, "--bind", "127.0.0.1",
                    "--mqtt-port", str(self.mqtt_port), "--http-port", str(self.http_port),
                    "--udp-port", str(self.udp_port),
                    "--mqtt-sys-interval", "1"] + self.args
        return [TE_BIN, "broker"] + self.args

    def start(self):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.cmdline(), stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_port(self.mqtt_port, proc=self.proc)
        return self

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        self.log.close()
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def restart(self):
        self.stop()
        return self.start()

    def logtext(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def http_get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.http_port, path), timeout=5) as r:
            return r.status, r.read().decode()


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path).start()
    yield srv
    rc = srv.stop()
    # a clean shutdown (no sanitizer report, exit 0) is part of every test
    assert rc == 0, "server exit %s\n%s" % (rc, srv.logtext()[-4000:])
    assert "ERROR: AddressSanitizer" not in srv.logtext()
    assert "runtime error:" not in srv.logtext()


@pytest.fixture
def make_server(tmp_path):
    made = []

    def make(*args, **kw):
        s = Server(tmp_path, *args, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()
