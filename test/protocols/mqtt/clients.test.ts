// Other real clients: mosquitto_pub/mosquitto_sub (3.1.1 and 5), paho-mqtt (Python), MQTT over
// WebSocket with mqtt.js; plus shared subscriptions, $SYS and an MQTT publish seen by a broker queue.
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { createServer } from 'node:http'
import { test } from 'node:test'
import { promisify } from 'node:util'
import mqtt from 'mqtt'
import { attachMqttWebSocket } from '../../../src/protocols/mqtt/index.ts'
import { collect, connect, sleep, startWharf } from './helpers.ts'

const run = promisify(execFile)

for (const version of ['mqttv311', 'mqttv5'] as const) {
  test(`mosquitto_sub/mosquitto_pub -V ${version}: QoS 1 round trip and a retained message`, async (t) => {
    const w = await startWharf(t)
    const target = ['-V', version, '-h', '127.0.0.1', '-p', String(w.port)]
    await run('mosquitto_pub', [...target, '-t', 'mq/retained', '-m', 'kept', '-q', '1', '-r'])
    const sub = spawn('mosquitto_sub', [...target, '-t', 'mq/#', '-q', '1', '-v', '-C', '3', '-W', '10'])
    t.after(() => sub.kill('SIGKILL'))
    let output = ''
    sub.stdout.on('data', (d) => {
      output += d
    })
    const exited = new Promise<number | null>((resolve) => sub.on('exit', resolve))
    while (!output.includes('mq/retained kept')) await sleep(50)
    await run('mosquitto_pub', [...target, '-t', 'mq/a', '-m', 'hello', '-q', '1'])
    await run('mosquitto_pub', [...target, '-t', 'mq/b', '-m', 'world', '-q', '2'])
    assert.equal(await exited, 0)
    assert.deepEqual(output.trim().split('\n'), ['mq/retained kept', 'mq/a hello', 'mq/b world'])
  })
}

test('paho-mqtt (Python): connect, subscribe, QoS 1 and QoS 2 round trips', async (t) => {
  const w = await startWharf(t)
  const script = `
import sys, threading, paho.mqtt.client as mqtt
port = int(sys.argv[1])
got = []
done = threading.Event()
def on_message(c, u, m):
    got.append("%s=%s@%d" % (m.topic, m.payload.decode(), m.qos))
    if len(got) == 2: done.set()
c = mqtt.Client(client_id="paho-test", clean_session=True)
c.on_message = on_message
c.connect("127.0.0.1", port, 30)
c.loop_start()
r, mid = c.subscribe([("paho/#", 2)])
assert r == 0
import time; time.sleep(0.3)
c.publish("paho/one", "q1", qos=1).wait_for_publish()
c.publish("paho/two", "q2", qos=2).wait_for_publish()
assert done.wait(10), got
c.disconnect(); c.loop_stop()
print(",".join(sorted(got)))
`
  const { stdout } = await run('/usr/bin/python3', ['-c', script, String(w.port)], { timeout: 20_000 })
  assert.equal(stdout.trim(), 'paho/one=q1@1,paho/two=q2@2')
})

for (const protocolVersion of [4, 5] as const) {
  test(`v${protocolVersion}: shared subscriptions give each message to one member of the group`, async (t) => {
    const w = await startWharf(t)
    const a = await connect(t, w, { protocolVersion })
    const b = await connect(t, w, { protocolVersion })
    const plain = await connect(t, w, { protocolVersion })
    const inA = collect(a)
    const inB = collect(b)
    const inPlain = collect(plain)
    await a.subscribeAsync({ '$share/workers/jobs/+': { qos: 1 } })
    await b.subscribeAsync({ '$share/workers/jobs/+': { qos: 1 } })
    await plain.subscribeAsync({ 'jobs/+': { qos: 1 } })
    const pub = await connect(t, w, { protocolVersion })
    for (let i = 0; i < 20; i++) await pub.publishAsync(`jobs/${i}`, String(i), { qos: 1 })
    await inPlain.next(20)
    await sleep(300)
    const shared = [...inA.messages, ...inB.messages].map((m) => Number(m.payload.toString())).sort((x, y) => x - y)
    assert.deepEqual(
      shared,
      Array.from({ length: 20 }, (_, i) => i),
      'every message once across the group',
    )
    assert.ok(
      inA.messages.length > 0 && inB.messages.length > 0,
      `both members served (${inA.messages.length}/${inB.messages.length})`,
    )
  })
}

test('$SYS statistics are published and not matched by #', async (t) => {
  const w = await startWharf(t, { sysIntervalMs: 200 })
  const c = await connect(t, w, { protocolVersion: 5 })
  const inbox = collect(c)
  await c.subscribeAsync('#')
  await c.subscribeAsync('$SYS/broker/clients/connected')
  const [m] = await inbox.next(1)
  assert.equal(m?.topic, '$SYS/broker/clients/connected')
  // The retained value may predate this client; the next period counts it.
  await sleep(500)
  assert.ok(
    inbox.messages.some((x) => Number(x.payload.toString()) >= 1),
    inbox.messages.map((x) => x.payload.toString()).join(','),
  )
  assert.ok(
    inbox.messages.every((x) => x.topic === '$SYS/broker/clients/connected'),
    'the # subscription hears no $SYS topic',
  )
  const uptime = await connect(t, w, { protocolVersion: 4 })
  const upInbox = collect(uptime)
  await uptime.subscribeAsync('$SYS/broker/+')
  const seen = (await upInbox.next(2)).map((x) => x.topic)
  assert.ok(seen.includes('$SYS/broker/uptime'), seen.join(','))
})

test('an MQTT publish reaches a broker queue bound to amq.topic with the AMQP routing key', async (t) => {
  const w = await startWharf(t)
  await w.broker.createQueue('from-mqtt', {})
  await w.broker.bind({
    source: 'amq.topic',
    destination: { kind: 'queue', name: 'from-mqtt' },
    key: 'sensors.*.temp',
    arguments: {},
  })
  const pub = await connect(t, w, { protocolVersion: 5 })
  await pub.publishAsync('sensors/kitchen/temp', '21.5', { qos: 1, properties: { userProperties: { unit: 'C' } } })
  const [d] = await w.broker.get('from-mqtt', { owner: 'test', waitMs: 2000 })
  assert.equal(d?.message.value?.toString(), '21.5')
  const header = (name: string) => d?.message.headers.find((h) => h.key === name)?.value?.toString()
  assert.equal(header('wharf.routing-key'), 'sensors.kitchen.temp')
  assert.equal(header('mqtt.topic'), 'sensors/kitchen/temp')
  assert.equal(header('unit'), 'C', 'user properties are plain record headers')
  // And the other way: a broker publish on amq.topic reaches an MQTT subscriber.
  const sub = await connect(t, w, { protocolVersion: 4 })
  const inbox = collect(sub)
  await sub.subscribeAsync({ 'orders/#': { qos: 1 } })
  await w.broker.publish('amq.topic', 'orders.eu.new', { value: 'o-1' })
  const [m] = await inbox.next(1)
  assert.equal(m?.topic, 'orders/eu/new')
  assert.equal(m?.payload.toString(), 'o-1')
})

test('MQTT over WebSocket at /mqtt with mqtt.js', async (t) => {
  const w = await startWharf(t)
  const http = createServer((_req, res) => res.writeHead(404).end())
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const ws = attachMqttWebSocket(http, w.listener.hub)
  t.after(() => {
    ws.close()
    http.close()
  })
  const port = (http.address() as import('node:net').AddressInfo).port
  const client = await mqtt.connectAsync(`ws://127.0.0.1:${port}/mqtt`, { protocolVersion: 5, reconnectPeriod: 0 })
  t.after(() => client.end(true))
  const inbox = collect(client)
  await client.subscribeAsync({ 'ws/#': { qos: 1 } })
  const tcp = await connect(t, w, { protocolVersion: 4 })
  await tcp.publishAsync('ws/x', 'over websocket', { qos: 1 })
  assert.equal((await inbox.next(1))[0]?.payload.toString(), 'over websocket')
})
