// MQTT.js (npm `mqtt`) over WebSockets against tinyedge: two clients, MQTT 3.1.1 and 5.0, subscribe
// and publish at QoS 0/1/2 through the `mqtt` subprotocol; prints one JSON line with what arrived.
const mqtt = require('mqtt');
const url = process.argv[2];
const got = [];
function connect(id, version) {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { clientId: id, protocolVersion: version, reconnectPeriod: 0, connectTimeout: 5000 });
    c.on('connect', () => resolve(c));
    c.on('error', reject);
  });
}
(async () => {
  const sub = await connect('mqttjs-sub', 5);
  sub.on('message', (topic, payload, packet) => {
    got.push({ topic, payload: payload.toString(), qos: packet.qos,
               user: packet.properties && packet.properties.userProperties });
  });
  await sub.subscribeAsync('js/#', { qos: 2 });
  const pub = await connect('mqttjs-pub', 4);
  for (const qos of [0, 1, 2]) await pub.publishAsync('js/q' + qos, 'hello ' + qos, { qos });
  const pub5 = await connect('mqttjs-pub5', 5);
  await pub5.publishAsync('js/props', 'with props', { qos: 1, properties: { userProperties: { a: '1' } } });
  const deadline = Date.now() + 5000;
  while (got.length < 4 && Date.now() < deadline) await new Promise(r => setTimeout(r, 50));
  console.log(JSON.stringify(got));
  await Promise.all([sub.endAsync(), pub.endAsync(), pub5.endAsync()]);
  process.exit(0);
})().catch(e => { console.error(String(e)); process.exit(1); });
