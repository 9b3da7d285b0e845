#!/usr/bin/env node
// Cross-check helper for tests/unit/lorawan/test_lorapacket.c, using the independent npm package
// lora-packet. `node lorapacket_xcheck.js gen` prints frames built by lora-packet as JSON lines
// (fields in natural/big-endian hex, keys, plaintext payload, on-air phy); `... verify` reads
// frames built by tinyedge as JSON lines on stdin, parses, MIC-checks and decrypts each with
// lora-packet and prints one {"id","ok","why"} line per frame. Exit status 0 unless it crashed.
"use strict";
const lp = require("lora-packet");

const H = (s) => Buffer.from(s, "hex");
const MTYPES = ["Join Request", "Join Accept", "Unconfirmed Data Up", "Unconfirmed Data Down",
                "Confirmed Data Up", "Confirmed Data Down"];

function fcntMS(fcnt32) { // upper 16 bits of FCnt, as lora-packet wants them (little-endian)
  const b = Buffer.alloc(2);
  b.writeUInt16LE(Math.floor(fcnt32 / 65536) & 0xffff, 0);
  return b;
}

function gen() {
  const out = [];
  const appkey = "2b7e151628aed2a6abf7158809cf4f3c";
  // join request
  {
    const c = { id: "lp-jr", kind: "join_request", appkey, joineui: "70b3d57ed0000001",
                deveui: "0004a30b001c0530", devnonce: 0xbeef };
    const p = lp.fromFields({ MType: "Join Request", AppEUI: H(c.joineui), DevEUI: H(c.deveui),
                              DevNonce: H("beef") }, undefined, undefined, H(appkey));
    c.phy = p.getPHYPayload().toString("hex");
    out.push(c);
  }
  // join accept, without and with CFList
  for (const cf of ["", "184f84e85684b85e84886684586e8400"]) {
    const c = { id: "lp-ja" + (cf ? "-cflist" : ""), kind: "join_accept", appkey,
                joinnonce: 0x123456, netid: "000013", devaddr: "26011bda",
                dlsettings: 0x13, rxdelay: 5, cflist: cf };
    const f = { MType: "Join Accept", AppNonce: H("123456"), NetID: H(c.netid),
                DevAddr: H(c.devaddr), DLSettings: Buffer.from([c.dlsettings]),
                RxDelay: Buffer.from([c.rxdelay]) };
    if (cf) f.CFList = H(cf);
    const p = lp.fromFields(f, undefined, undefined, H(appkey));
    c.phy = p.getPHYPayload().toString("hex");
    out.push(c);
  }
  // session keys
  {
    const k = lp.generateSessionKeys10(H(appkey), H("000013"), H("123456"), H("beef"));
    out.push({ id: "lp-keys", kind: "session_keys", appkey, joinnonce: 0x123456, netid: "000013",
               devnonce: 0xbeef, nwkskey: k.NwkSKey.toString("hex"),
               appskey: k.AppSKey.toString("hex") });
  }
  // data frames
  const nwkskey = "44024241ed4ce9a68c6a8bc055233fd3", appskey = "ec925802ae430ca77fd3dd73cb2cc588";
  const data = [
    { id: "lp-unconf-up-fopts", mtype: 2, fcnt: 7, fctrl: { adr: true }, fopts: "0206",
      fport: 5, payload: "0167011a02680b" },
    { id: "lp-conf-up-flags", mtype: 4, fcnt: 300, fctrl: { adr: true, adrAckReq: true, ack: true },
      fopts: "0305", fport: 200, payload: "54686520717569636b2062726f776e20666f78206a756d7073" },
    { id: "lp-unconf-down-fopts", mtype: 3, fcnt: 12, fctrl: { ack: true, fPending: true },
      fopts: "0351070001", fport: 10, payload: "cafebabe" },
    { id: "lp-conf-down", mtype: 5, fcnt: 65535, fctrl: { ack: true }, fopts: "", fport: 1,
      payload: "00112233445566778899aabbccddeeff0011" },
    { id: "lp-fport0-up", mtype: 2, fcnt: 3, fctrl: {}, fopts: "", fport: 0, payload: "020603" },
    { id: "lp-fport0-down", mtype: 3, fcnt: 4, fctrl: {}, fopts: "", fport: 0,
      payload: "0351070001060a" },
    { id: "lp-fcnt32-up", mtype: 2, fcnt: 0x12345, fctrl: { adr: true }, fopts: "", fport: 2,
      payload: "0167011a" },
    { id: "lp-fcnt32-down", mtype: 5, fcnt: 0x2fffe, fctrl: {}, fopts: "02", fport: 9,
      payload: "ab" },
  ];
  for (const d of data) {
    const c = Object.assign({ kind: "data", devaddr: "49be7df1", nwkskey, appskey }, d);
    const p = lp.fromFields({
      MType: MTYPES[d.mtype], DevAddr: H(c.devaddr), FCnt: d.fcnt & 0xffff,
      FCtrl: { ADR: !!d.fctrl.adr, ADRACKReq: !!d.fctrl.adrAckReq, ACK: !!d.fctrl.ack,
               FPending: !!d.fctrl.fPending },
      FOpts: d.fopts, FPort: d.fport, payload: H(d.payload),
    }, H(appskey), H(nwkskey), undefined, fcntMS(d.fcnt));
    c.phy = p.getPHYPayload().toString("hex");
    out.push(c);
  }
  for (const c of out) process.stdout.write(JSON.stringify(c) + "\n");
}

function check(c) {
  const phy = H(c.phy);
  if (c.kind === "join_request") {
    const p = lp.fromWire(phy);
    if (p.getMType() !== "Join Request") return "mtype " + p.getMType();
    if (p.AppEUI.toString("hex") !== c.joineui) return "joineui " + p.AppEUI.toString("hex");
    if (p.DevEUI.toString("hex") !== c.deveui) return "deveui " + p.DevEUI.toString("hex");
    if (p.DevNonce.readUInt16BE(0) !== c.devnonce) return "devnonce";
    if (!lp.verifyMIC(p, undefined, H(c.appkey))) return "MIC";
    return null;
  }
  if (c.kind === "join_accept") {
    const enc = lp.fromWire(phy);
    if (enc.getMType() !== "Join Accept") return "mtype " + enc.getMType();
    const p = lp.fromWire(lp.decryptJoinAccept(enc, H(c.appkey)));
    if (p.AppNonce.toString("hex") !== c.joinnonce.toString(16).padStart(6, "0"))
      return "joinnonce " + p.AppNonce.toString("hex");
    if (p.NetID.toString("hex") !== c.netid) return "netid " + p.NetID.toString("hex");
    if (p.DevAddr.toString("hex") !== c.devaddr) return "devaddr " + p.DevAddr.toString("hex");
    if (p.DLSettings.readUInt8(0) !== c.dlsettings) return "dlsettings";
    if (p.RxDelay.readUInt8(0) !== c.rxdelay) return "rxdelay";
    if ((p.CFList || Buffer.alloc(0)).toString("hex") !== c.cflist) return "cflist";
    if (!lp.verifyMIC(p, undefined, H(c.appkey))) return "MIC";
    return null;
  }
  if (c.kind === "data") {
    const p = lp.fromWire(phy);
    if (p.getMType() !== MTYPES[c.mtype]) return "mtype " + p.getMType();
    if (p.DevAddr.toString("hex") !== c.devaddr) return "devaddr " + p.DevAddr.toString("hex");
    if (p.getFCnt() !== (c.fcnt & 0xffff)) return "fcnt " + p.getFCnt();
    const f = c.fctrl || {};
    if (p.getFCtrlADR() !== !!f.adr) return "ADR";
    if (p.getFCtrlACK() !== !!f.ack) return "ACK";
    if (c.mtype === 2 || c.mtype === 4) {
      if (p.getFCtrlADRACKReq() !== !!f.adrAckReq) return "ADRACKReq";
    } else if (p.getFCtrlFPending() !== !!f.fPending) return "FPending";
    if (p.FOpts.toString("hex") !== c.fopts) return "fopts " + p.FOpts.toString("hex");
    if (p.getFPort() !== c.fport) return "fport " + p.getFPort();
    if (!lp.verifyMIC(p, H(c.nwkskey), undefined, fcntMS(c.fcnt))) return "MIC";
    if (lp.verifyMIC(p, H(c.appskey), undefined, fcntMS(c.fcnt))) return "MIC with wrong key";
    const plain = lp.decrypt(p, H(c.appskey), H(c.nwkskey), fcntMS(c.fcnt));
    if (plain.toString("hex") !== c.payload) return "payload " + plain.toString("hex");
    return null;
  }
  return "unknown kind " + c.kind;
}

function verify() {
  const lines = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.trim());
  for (const l of lines) {
    let c = {}, why;
    try {
      c = JSON.parse(l);
      why = check(c);
    } catch (e) {
      why = "exception: " + e.message;
    }
    process.stdout.write(JSON.stringify({ id: c.id || "?", ok: !why, why: why || "" }) + "\n");
  }
}

const mode = process.argv[2];
if (mode === "gen") gen();
else if (mode === "verify") verify();
else {
  process.stderr.write("usage: lorapacket_xcheck.js gen|verify\n");
  process.exitCode = 2;
}
