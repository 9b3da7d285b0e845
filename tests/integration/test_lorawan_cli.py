"""`tinyedge lorawan ...`: the LoRaWAN registry CLI on a data dir (server running or not):
applications (API key printed once, stored hashed), OTAA/ABP devices, gateways, --json output,
keys never printed, --config/--data-dir resolution, exit codes 0/1/2 with one-line errors."""
import json
import os
import re
import sqlite3
import subprocess

import pytest

from conftest import TE_BIN

APP_KEY = "000102030405060708090A0B0C0D0E0F"
NWK_S_KEY = "A1A2A3A4A5A6A7A8A9AAABACADAEAFB0"
APP_S_KEY = "C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0"
KEY_RE = re.compile(r"^NNSXS\.[0-9A-F]{16}\.[0-9A-F]{64}$")


def lw(*args, data_dir=None, cwd=None, check=None):
    cmd = [TE_BIN, "lorawan"] + list(args)
    if data_dir is not None:
        cmd += ["--data-dir", str(data_dir)]
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=cwd, env=env)
    if check is not None:
        assert p.returncode == check, (cmd, p.returncode, p.stdout, p.stderr)
    return p


def no_secrets(text):
    for k in (APP_KEY, NWK_S_KEY, APP_S_KEY):
        assert k not in text.upper(), "a key was printed"


def one_line_error(p):
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("tinyedge lorawan: ")
    return lines[0]


def add_otaa(d, app="app1", dev="dev1", eui="70B3D57ED0000001", *extra, check=0):
    return lw("device", "add", "--app", app, "--dev", dev, "--dev-eui", eui, "--join-eui", "0000000000000000",
              "--app-key", APP_KEY, *extra, data_dir=d, check=check)


def test_app_lifecycle_and_key_shown_once(tmp_path):
    d = tmp_path / "data"
    p = lw("app", "add", "--app", "app1", "--name", "First app", "--formatter", "lpp", data_dir=d, check=0)
    key = p.stdout.strip()
    assert KEY_RE.match(key), p.stdout
    assert "shown only now" in p.stderr
    # the key is stored hashed, never in clear
    db = sqlite3.connect(str(d / "lorawan.db"))
    dump = "\n".join(db.iterdump())
    db.close()
    assert key not in dump and key.split(".")[2] not in dump.upper()
    assert oct(os.stat(d / "lorawan.db").st_mode & 0o777) == "0o600"

    out = lw("app", "list", data_dir=d, check=0).stdout
    assert "app1" in out and "lpp" in out and "First app" in out and key not in out
    j = json.loads(lw("app", "show", "--app", "app1", "--json", data_dir=d, check=0).stdout)
    assert j["ids"]["application_id"] == "app1"
    assert j["name"] == "First app" and j["formatter"] == "lpp" and j["device_count"] == 0
    assert "api_key" not in json.dumps(j)
    j = json.loads(lw("app", "list", "--json", data_dir=d, check=0).stdout)
    assert [a["ids"]["application_id"] for a in j["applications"]] == ["app1"]

    # a second key; both are new and well-formed
    k2 = lw("app", "key-new", "--app", "app1", data_dir=d, check=0).stdout.strip()
    assert KEY_RE.match(k2) and k2 != key
    err = one_line_error(lw("app", "key-new", "--app", "nope", data_dir=d, check=1))
    assert "application nope not found" in err

    err = one_line_error(lw("app", "add", "--app", "app1", data_dir=d, check=1))
    assert "already exists" in err
    p = lw("app", "add", "--app", "app2", "--json", data_dir=d, check=0)
    j = json.loads(p.stdout)
    assert KEY_RE.match(j["api_key"]) and j["application"]["ids"]["application_id"] == "app2"
    assert j["application"]["formatter"] == "none"

    assert "removed application app1" in lw("app", "remove", "--app", "app1", data_dir=d, check=0).stdout
    one_line_error(lw("app", "remove", "--app", "app1", data_dir=d, check=1))
    one_line_error(lw("app", "show", "--app", "app1", data_dir=d, check=1))


def test_devices_otaa_and_abp_keys_never_printed(tmp_path):
    d = tmp_path / "data"
    lw("app", "add", "--app", "app1", data_dir=d, check=0)
    p = add_otaa(d, "app1", "dev1", "70b3d57ed0000001", "--name", "sensor one", "--mac-version", "1.0.3", "--no-adr")
    assert "created device app1/dev1" in p.stdout
    no_secrets(p.stdout + p.stderr)
    p = lw("device", "add", "--app", "app1", "--dev", "abp1", "--dev-addr", "260B1234", "--nwk-s-key", NWK_S_KEY,
           "--app-s-key", APP_S_KEY, "--relax-fcnt", "--region", "US915", "--mac-version", "1.0.2", data_dir=d, check=0)
    assert "ABP" in p.stdout and "260B1234" in p.stdout
    no_secrets(p.stdout + p.stderr)

    out = lw("device", "list", data_dir=d, check=0).stdout
    assert "dev1" in out and "abp1" in out and "70B3D57ED0000001" in out and "260B1234" in out
    no_secrets(out)
    out = lw("device", "list", "--app", "app1", "--json", data_dir=d, check=0).stdout
    no_secrets(out)
    devs = {x["ids"]["device_id"]: x for x in json.loads(out)["end_devices"]}
    assert set(devs) == {"dev1", "abp1"}
    assert devs["dev1"]["ids"]["dev_eui"] == "70B3D57ED0000001"
    assert devs["dev1"]["activation"] == "OTAA" and devs["dev1"]["app_key"] == "set"
    assert devs["dev1"]["mac_version"] == "1.0.3" and devs["dev1"]["adr"] is False
    assert devs["dev1"]["session"]["active"] is False
    assert devs["abp1"]["activation"] == "ABP" and devs["abp1"]["region"] == "US915"
    assert devs["abp1"]["nwk_s_key"] == "set" and devs["abp1"]["relax_fcnt"] is True
    assert devs["abp1"]["session"] == {"active": True, "dev_addr": "260B1234", "next_f_cnt_down": 0,
                                       "data_rate_index": 0, "tx_power_index": 0, "nb_trans": 1}

    out = lw("device", "show", "--app", "app1", "--dev", "abp1", data_dir=d, check=0).stdout
    assert "NwkSKey:      set" in out and "US915" in out and "active, DevAddr 260B1234" in out
    no_secrets(out)
    out = lw("device", "show", "--app", "app1", "--dev", "dev1", data_dir=d, check=0).stdout
    assert "AppKey:       set" in out and "sensor one" in out and "not joined" in out
    no_secrets(out)
    j = json.loads(lw("app", "show", "--app", "app1", "--json", data_dir=d, check=0).stdout)
    assert j["device_count"] == 2

    # unique DevEUI per JoinEUI, unique id
    err = one_line_error(add_otaa(d, "app1", "dev2", "70B3D57ED0000001", check=1))
    assert "70B3D57ED0000001" in err and "app1/dev1" in err
    err = one_line_error(add_otaa(d, "app1", "dev1", "70B3D57ED0000009", check=1))
    assert "already exists" in err

    assert "removed device app1/dev1" in lw("device", "remove", "--app", "app1", "--dev", "dev1", data_dir=d, check=0).stdout
    err = one_line_error(lw("device", "show", "--app", "app1", "--dev", "dev1", data_dir=d, check=1))
    assert "device app1/dev1 not found" in err
    one_line_error(lw("device", "remove", "--app", "app1", "--dev", "dev1", data_dir=d, check=1))
    # removing the application removes its devices
    assert "and its 1 device" in lw("app", "remove", "--app", "app1", data_dir=d, check=0).stdout
    assert json.loads(lw("device", "list", "--json", data_dir=d, check=0).stdout) == {"end_devices": []}


def test_device_add_to_missing_app_is_an_error(tmp_path):
    d = tmp_path / "data"
    err = one_line_error(add_otaa(d, "nope", "dev1", check=1))
    assert "application nope not found (tinyedge lorawan app add" in err
    one_line_error(lw("device", "list", "--app", "nope", data_dir=d, check=1))


@pytest.mark.parametrize("args,status,msg", [
    (["device", "add", "--dev", "d1", "--dev-eui", "70B3D57ED0000001", "--app-key", APP_KEY], 2, "missing --app"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-eui", "70B3D57ED0000001"], 2, "--app-key"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-eui", "70B3D57ED0000001", "--app-key", APP_KEY,
      "--dev-addr", "01020304"], 2, "either"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-addr", "01020304", "--nwk-s-key", NWK_S_KEY], 2,
     "--app-s-key"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-eui", "70B3D57ED0000001", "--app-key", APP_KEY,
      "--relax-fcnt"], 2, "ABP"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--bogus", "x"], 2, "unknown option '--bogus'"),
    (["device", "add", "--app", "app1", "--dev", "d1", "stray"], 2, "unexpected argument"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-eui"], 2, "needs a value"),
    (["device", "list", "--no-adr"], 2, "unknown option"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-eui", "70B3D57ED00000", "--app-key", APP_KEY], 1,
     "--dev-eui must be 16 hex digits"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-eui", "70B3D57ED0000001", "--app-key", "00112233"], 1,
     "--app-key must be 32 hex digits"),
    (["device", "add", "--app", "app1", "--dev", "D_1", "--dev-eui", "70B3D57ED0000001", "--app-key", APP_KEY], 1,
     "invalid device id"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-eui", "70B3D57ED0000001", "--app-key", APP_KEY,
      "--region", "CN470"], 1, "unknown region"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-eui", "70B3D57ED0000001", "--app-key", APP_KEY,
      "--mac-version", "1.1"], 1, "--mac-version"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-eui", "70B3D57ED0000001", "--app-key", APP_KEY,
      "--class", "C"], 1, "class A"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-eui", "70B3D57ED0000001", "--app-key", "0" * 32], 1,
     "AppKey"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-addr", "00000000", "--nwk-s-key", NWK_S_KEY,
      "--app-s-key", APP_S_KEY], 1, "DevAddr"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-eui", "70B3D57ED0000001", "--app-key", APP_KEY,
      "--formatter", "cobol"], 1, "--formatter"),
    (["device", "add", "--app", "app1", "--dev", "d1", "--dev-eui", "70B3D57ED0000001", "--app-key", APP_KEY,
      "--formatter", "js:/nonexistent/x.js"], 1, "cannot read"),
    (["app", "add", "--app", "Bad_App"], 1, "invalid application id"),
    (["app", "add", "--app", "app9", "--formatter", "inherit"], 1, "--formatter"),
    (["app", "frobnicate"], 2, "unknown command"),
    (["satellite", "list"], 2, "unknown object"),
    (["gateway", "add", "--eui", "B827EBFFFE12345"], 1, "--eui must be 16 hex digits"),
    (["gateway", "add", "--eui", "B827EBFFFE123456", "--lat", "48"], 2, "--lon"),
    (["gateway", "add", "--eui", "B827EBFFFE123456", "--lat", "91", "--lon", "2"], 1, "--lat"),
    (["gateway", "add", "--eui", "B827EBFFFE123456", "--id", "-gw"], 1, "invalid gateway id"),
])
def test_bad_input_exit_codes(tmp_path, args, status, msg):
    d = tmp_path / "data"
    lw("app", "add", "--app", "app1", data_dir=d, check=0)
    p = lw(*args, data_dir=d, check=status)
    assert msg in p.stderr, p.stderr
    assert p.stderr.startswith("tinyedge lorawan: ")
    if status == 1:
        one_line_error(p)
    no_secrets(p.stdout + p.stderr)
    assert json.loads(lw("device", "list", "--json", data_dir=d, check=0).stdout) == {"end_devices": []}


def test_no_arguments_and_help():
    assert lw(check=2).stderr.startswith("usage:")
    out = lw("--help", check=0).stdout
    for c in ("app add", "device add", "gateway add", "--data-dir", "--json"):
        assert c in out
    assert "--relax-fcnt" in lw("device", "add", "--help", check=0).stdout
    assert "key-new" in lw("app", "--help", check=0).stdout
    assert "lorawan" in subprocess.run([TE_BIN, "--help"], capture_output=True, text=True, timeout=10).stdout


def test_gateways(tmp_path):
    d = tmp_path / "data"
    p = lw("gateway", "add", "--eui", "b827ebfffe123456", "--name", "roof", "--lat", "48.85", "--lon", "2.35",
           "--alt", "35", data_dir=d, check=0)
    assert "eui-b827ebfffe123456" in p.stdout
    lw("gateway", "add", "--eui", "B827EBFFFE654321", "--id", "basement", data_dir=d, check=0)
    one_line_error(lw("gateway", "add", "--eui", "B827EBFFFE654321", data_dir=d, check=1))
    out = lw("gateway", "list", data_dir=d, check=0).stdout
    assert "roof" in out and "basement" in out and "48.850000,2.350000,35" in out
    gws = json.loads(lw("gateway", "list", "--json", data_dir=d, check=0).stdout)["gateways"]
    assert [g["ids"]["gateway_id"] for g in gws] == ["eui-b827ebfffe123456", "basement"]
    assert gws[0]["location"] == {"latitude": 48.85, "longitude": 2.35, "altitude": 35}
    assert "location" not in gws[1]
    j = json.loads(lw("gateway", "show", "--eui", "eui-b827ebfffe123456", "--json", data_dir=d, check=0).stdout)
    assert j["ids"]["eui"] == "B827EBFFFE123456"
    lw("gateway", "remove", "--eui", "B827EBFFFE123456", data_dir=d, check=0)
    one_line_error(lw("gateway", "remove", "--eui", "B827EBFFFE123456", data_dir=d, check=1))
    gws = json.loads(lw("gateway", "list", "--json", data_dir=d, check=0).stdout)["gateways"]
    assert [g["ids"]["gateway_id"] for g in gws] == ["basement"]


def test_js_formatter_from_file(tmp_path):
    d = tmp_path / "data"
    js = tmp_path / "dec.js"
    js.write_text("function decodeUplink(input) { return {data: {n: input.bytes.length}}; }\n")
    lw("app", "add", "--app", "app1", "--formatter", "js:%s" % js, data_dir=d, check=0)
    j = json.loads(lw("app", "show", "--app", "app1", "--json", data_dir=d, check=0).stdout)
    assert j["formatter"] == "js" and "decodeUplink" in j["formatter_script"]
    add_otaa(d, "app1", "dev1", "70B3D57ED0000001", "--formatter", "none")
    j = json.loads(lw("device", "show", "--app", "app1", "--dev", "dev1", "--json", data_dir=d, check=0).stdout)
    assert j["formatter"] == "none"
    empty = tmp_path / "empty.js"
    empty.write_text("")
    one_line_error(lw("app", "add", "--app", "app2", "--formatter", "js:%s" % empty, data_dir=d, check=1))


def test_data_dir_from_config_and_default(tmp_path):
    d = tmp_path / "from-ini"
    ini = tmp_path / "te.ini"
    ini.write_text("data_dir = %s\n" % d)
    lw("app", "add", "--app", "app1", "--config", str(ini), check=0)
    assert (d / "lorawan.db").exists()
    assert "app1" in lw("app", "list", "--data-dir", str(d), check=0).stdout
    # --data-dir wins over the file
    other = tmp_path / "other"
    lw("app", "add", "--app", "app2", "--config", str(ini), "--data-dir", str(other), check=0)
    assert (other / "lorawan.db").exists()
    one_line_error(lw("app", "list", "--config", str(tmp_path / "missing.ini"), check=1))
    # the server's default data dir: ./data
    lw("app", "add", "--app", "app3", cwd=str(tmp_path), check=0)
    assert (tmp_path / "data" / "lorawan.db").exists()


def test_cli_while_server_runs_and_in_parallel(server):
    d = server.data_dir
    lw("app", "add", "--app", "app1", data_dir=d, check=0)
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    procs = [subprocess.Popen([TE_BIN, "lorawan", "device", "add", "--data-dir", d, "--app", "app1", "--dev",
                               "dev%d" % i, "--dev-eui", "70B3D57ED00000%02X" % i, "--app-key", APP_KEY],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for i in range(12)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    devs = json.loads(lw("device", "list", "--json", data_dir=d, check=0).stdout)["end_devices"]
    assert len(devs) == 12
    assert server.proc.poll() is None
