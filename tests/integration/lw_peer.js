#!/usr/bin/env node
// An independent LoRaWAN end device for the integration tests, built on the npm package
// lora-packet: reads one JSON request per line on stdin, answers one JSON line on stdout.
//   {"op":"join_request","appkey","joineui","deveui","devnonce"}        -> {"phy"}
//   {"op":"join_accept","appkey","phy","devnonce"}  decrypt + MIC check -> {"devaddr","netid",
//        "joinnonce","dlsettings","rxdelay","cflist","nwkskey","appskey","mic_ok"}
//   {"op":"up","mtype":"Unconfirmed Data Up"|"Confirmed Data Up","devaddr","nwkskey","appskey",
//        "fcnt","fport","payload","adr","ack","adrackreq","fopts"}      -> {"phy"}
//   {"op":"down","phy","nwkskey","appskey","fcnt_hint"}                 -> {"mtype","devaddr",
//        "fcnt","fport","payload","ack","fpending","adr","fopts","mic_ok"}
// All byte strings are hex (EUIs and DevAddr in display order).
"use strict";
const lp = require("lora-packet");
const readline = require("readline");
const H = (s) => Buffer.from(s || "", "hex");

function fcntMS(fcnt32) {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(Math.floor(fcnt32 / 65536) & 0xffff, 0);
  return b;
}

function handle(r) {
  switch (r.op) {
    case "join_request": {
      const dn = Buffer.alloc(2);
      dn.writeUInt16BE(r.devnonce, 0);
      const p = lp.fromFields({ MType: "Join Request", AppEUI: H(r.joineui), DevEUI: H(r.deveui), DevNonce: dn },
                              undefined, undefined, H(r.appkey));
      return { phy: p.getPHYPayload().toString("hex") };
    }
    case "join_accept": {
      const enc = lp.fromWire(H(r.phy));
      if (enc.getMType() !== "Join Accept") return { error: "not a join accept: " + enc.getMType() };
      const p = lp.fromWire(lp.decryptJoinAccept(enc, H(r.appkey)));
      const dn = Buffer.alloc(2);
      dn.writeUInt16BE(r.devnonce, 0);
      const k = lp.generateSessionKeys10(H(r.appkey), p.NetID, p.AppNonce, dn);
      return {
        devaddr: p.DevAddr.toString("hex"), netid: p.NetID.toString("hex"), joinnonce: p.AppNonce.toString("hex"),
        dlsettings: p.DLSettings.readUInt8(0), rxdelay: p.RxDelay.readUInt8(0),
        cflist: (p.CFList || Buffer.alloc(0)).toString("hex"),
        nwkskey: k.NwkSKey.toString("hex"), appskey: k.AppSKey.toString("hex"),
        mic_ok: lp.verifyMIC(p, undefined, H(r.appkey)),
      };
    }
    case "up": {
      const f = {
        MType: r.mtype || "Unconfirmed Data Up", DevAddr: H(r.devaddr), FCnt: r.fcnt & 0xffff,
        FCtrl: { ADR: !!r.adr, ADRACKReq: !!r.adrackreq, ACK: !!r.ack, FPending: false },
        FOpts: r.fopts || "", payload: H(r.payload),
      };
      if (r.fport !== undefined && r.fport !== null) f.FPort = r.fport;
      const p = lp.fromFields(f, H(r.appskey), H(r.nwkskey), undefined, fcntMS(r.fcnt));
      return { phy: p.getPHYPayload().toString("hex") };
    }
    case "down": {
      const p = lp.fromWire(H(r.phy));
      const hint = r.fcnt_hint || 0;
      const fcnt16 = p.getFCnt();
      let fcnt = (hint & ~0xffff) + fcnt16;
      if (fcnt < hint) fcnt += 0x10000;
      const mic_ok = lp.verifyMIC(p, H(r.nwkskey), undefined, fcntMS(fcnt));
      const fport = p.getFPort();
      let payload = "";
      if (p.FRMPayload && p.FRMPayload.length) payload = lp.decrypt(p, H(r.appskey), H(r.nwkskey), fcntMS(fcnt)).toString("hex");
      return {
        mtype: p.getMType(), devaddr: p.DevAddr.toString("hex"), fcnt, fport: fport === null ? null : fport,
        payload, ack: p.getFCtrlACK(), fpending: p.getFCtrlFPending(), adr: p.getFCtrlADR(),
        fopts: p.FOpts.toString("hex"), mic_ok,
      };
    }
    default:
      return { error: "unknown op " + r.op };
  }
}

const rl = readline.createInterface({ input: process.stdin });
rl.on("line", (line) => {
  let out;
  try {
    out = handle(JSON.parse(line));
  } catch (e) {
    out = { error: "exception: " + e.message };
  }
  process.stdout.write(JSON.stringify(out) + "\n");
});
