// MQTT 5 will delay and session expiry, with mqtt.js (a raw connection for the DISCONNECT a library will
// not send, mosquitto_sub for a client killed outright): a delayed will waits for its delay or the end of
// the session, whichever is first, and a reconnect cancels it; sessions end after their expiry interval;
// DISCONNECT may change that interval but not turn a session that ends at disconnect into a lasting one.
// Intervals are 1-2 s; timing checks are orderings with wide margins, never speed.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { Socket } from 'node:net'
import type { TestContext } from 'node:test'
import { test } from 'node:test'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { collect, connect, rawClient, sleep, startWharf } from './helpers.ts'

type Wharf = Awaited<ReturnType<typeof startWharf>>

/** Kills the client's socket: no DISCONNECT, as when its network or process dies. */
function drop(client: MqttClient): void {
  ;(client as unknown as { stream: Socket }).stream.destroy()
}

/** A v5 subscriber on topic, to see wills (and anything else) arrive. */
async function watch(t: TestContext, w: Wharf, topic: string) {
  const watcher = await connect(t, w, { protocolVersion: 5 })
  const inbox = collect(watcher)
  await watcher.subscribeAsync(topic, { qos: 1 })
  return inbox
}

/** Connects with the inbox attached before CONNACK, so messages of a resumed session are not missed. */
async function reconnect(t: TestContext, w: Wharf, options: IClientOptions) {
  const client = mqtt.connect({ host: '127.0.0.1', port: w.port, reconnectPeriod: 0, connectTimeout: 5000, ...options })
  t.after(() => client.end(true))
  const inbox = collect(client)
  const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
    client.once('connect', resolve)
    client.once('error', reject)
  })
  return { client, inbox, connack }
}

type Reconnected = Awaited<ReturnType<typeof reconnect>>

const will = (topic: string, payload: string, delayS: number): NonNullable<IClientOptions['will']> => ({
  topic,
  payload: Buffer.from(payload),
  qos: 1,
  retain: false,
  properties: { willDelayInterval: delayS },
})

/**
 * The reconnected client's session kept no subscription: of a publish to oldTopic (which the old session
 * subscribed to) and one to a fresh subscription, only the fresh one arrives.
 */
async function assertFreshSession(back: Reconnected, pub: MqttClient, oldTopic: string): Promise<void> {
  await back.client.subscribeAsync('control', { qos: 1 })
  await pub.publishAsync(oldTopic, 'no subscriber', { qos: 1 })
  await pub.publishAsync('control', 'fresh', { qos: 1 })
  await back.inbox.next(1)
  await sleep(200)
  assert.deepEqual(
    back.inbox.messages.map((m) => m.topic),
    ['control'],
  )
}

test('v5: a delayed will waits for its delay after an abrupt close, and keeps its properties', async (t) => {
  const w = await startWharf(t)
  const inbox = await watch(t, w, 'wd/#')
  const client = await connect(t, w, {
    protocolVersion: 5,
    clientId: 'wd-delay',
    clean: false,
    properties: { sessionExpiryInterval: 60 },
    will: {
      ...will('wd/status', 'offline', 2),
      properties: { willDelayInterval: 2, contentType: 'text/plain', userProperties: { why: 'dropped' } },
    },
  })
  const droppedAt = Date.now()
  drop(client)
  await sleep(1000)
  assert.equal(inbox.messages.length, 0, 'no will within the first second of a 2 s delay')
  const [got] = await inbox.next(1, 5000)
  assert.ok(Date.now() - droppedAt >= 1500, 'the will came after its delay')
  assert.equal(got?.topic, 'wd/status')
  assert.equal(got?.payload.toString(), 'offline')
  assert.equal(got?.packet.properties?.contentType, 'text/plain')
  assert.deepEqual({ ...got?.packet.properties?.userProperties }, { why: 'dropped' })
})

test('v5: reconnecting within the will delay cancels the will [MQTT-3.1.3-9]', async (t) => {
  const w = await startWharf(t)
  const inbox = await watch(t, w, 'wd/#')
  const session = {
    protocolVersion: 5 as const,
    clientId: 'wd-back',
    clean: false,
    properties: { sessionExpiryInterval: 60 },
  }
  const first = await connect(t, w, { ...session, will: will('wd/first', 'lost', 2) })
  drop(first)
  await sleep(300)
  const back = await reconnect(t, w, { ...session, will: will('wd/second', 'lost again', 0) })
  assert.equal(back.connack.sessionPresent, true)
  await sleep(3000) // 1.3 s past the first will's delay
  // The watcher is live: the new connection's own undelayed will arrives when it drops in turn.
  drop(back.client)
  const [got] = await inbox.next(1, 5000)
  assert.equal(got?.topic, 'wd/second')
  await sleep(300)
  assert.deepEqual(
    inbox.messages.map((m) => m.topic),
    ['wd/second'],
    'the cancelled will never came',
  )
})

test('mosquitto_sub -V mqttv5 killed with SIGKILL: its will waits for the will delay', async (t) => {
  const w = await startWharf(t)
  const inbox = await watch(t, w, 'wd/#')
  // A retained message tells when mosquitto_sub is subscribed (its stdout is flushed per message).
  const pub = await connect(t, w, { protocolVersion: 5 })
  await pub.publishAsync('ready/mosquitto', 'ready', { qos: 1, retain: true })
  const sub = spawn('mosquitto_sub', [
    ...['-V', 'mqttv5', '-h', '127.0.0.1', '-p', String(w.port)],
    ...['-i', 'wd-mosquitto', '-c', '-x', '60', '-t', 'ready/mosquitto', '-q', '1'],
    ...['--will-topic', 'wd/mosquitto', '--will-payload', 'killed', '--will-qos', '1'],
    ...['-D', 'will', 'will-delay-interval', '2'],
  ])
  t.after(() => sub.kill('SIGKILL'))
  let output = ''
  sub.stdout.on('data', (d) => {
    output += d
  })
  for (let waited = 0; !output.includes('ready'); waited += 50) {
    assert.ok(waited < 5000, `mosquitto_sub did not subscribe: ${output}`)
    await sleep(50)
  }
  sub.kill('SIGKILL')
  await sleep(1000)
  assert.equal(inbox.messages.length, 0, 'no will within the first second of a 2 s delay')
  const [got] = await inbox.next(1, 5000)
  assert.equal(got?.topic, 'wd/mosquitto')
  assert.equal(got?.payload.toString(), 'killed')
})

test('v5: a will delay longer than the session expiry: the will is sent when the session ends', async (t) => {
  const w = await startWharf(t)
  const inbox = await watch(t, w, 'wd/#')
  const session = {
    protocolVersion: 5 as const,
    clientId: 'wd-long',
    clean: false,
    properties: { sessionExpiryInterval: 2 },
  }
  const client = await connect(t, w, { ...session, will: will('wd/long', 'expired', 30) })
  const droppedAt = Date.now()
  drop(client)
  await sleep(1000)
  assert.equal(inbox.messages.length, 0, 'no will within the first second of a 2 s session')
  const [got] = await inbox.next(1, 5000)
  assert.ok(Date.now() - droppedAt >= 1500, 'the will came when the session expired')
  assert.equal(got?.payload.toString(), 'expired')
  const back = await reconnect(t, w, session)
  assert.equal(back.connack.sessionPresent, false, 'the session ended with its will')
})

test('v5: DISCONNECT 0x00 discards the will; DISCONNECT 0x04 publishes it, after its delay', async (t) => {
  const w = await startWharf(t)
  const inbox = await watch(t, w, 'wd/#')
  const polite = await connect(t, w, { protocolVersion: 5, clientId: 'wd-polite', will: will('wd/polite', 'x', 0) })
  await polite.endAsync({ reasonCode: 0 })
  await sleep(300)
  const asked = await connect(t, w, { protocolVersion: 5, clientId: 'wd-asked', will: will('wd/asked', 'now', 0) })
  await asked.endAsync({ reasonCode: 0x04 })
  const [first] = await inbox.next(1)
  assert.equal(first?.topic, 'wd/asked')
  const delayed = await connect(t, w, {
    protocolVersion: 5,
    clientId: 'wd-asked-later',
    clean: false,
    properties: { sessionExpiryInterval: 60 },
    will: will('wd/asked-later', 'later', 1),
  })
  await delayed.endAsync({ reasonCode: 0x04 })
  await sleep(500)
  assert.equal(inbox.messages.length, 1, 'a DISCONNECT 0x04 will still waits for its delay')
  await inbox.next(2)
  assert.deepEqual(
    inbox.messages.map((m) => m.topic),
    ['wd/asked', 'wd/asked-later'],
  )
})

test('v5: a session outlives its connection for its expiry interval, then ends', async (t) => {
  const w = await startWharf(t)
  const session = {
    protocolVersion: 5 as const,
    clientId: 'exp-2s',
    clean: false,
    properties: { sessionExpiryInterval: 2 },
  }
  const first = await connect(t, w, session)
  await first.subscribeAsync('exp/#', { qos: 1 })
  await first.endAsync()
  const pub = await connect(t, w, { protocolVersion: 5 })
  await pub.publishAsync('exp/a', 'while away', { qos: 1 })
  const back = await reconnect(t, w, session)
  assert.equal(back.connack.sessionPresent, true, 'reconnected within the expiry interval')
  assert.equal((await back.inbox.next(1))[0]?.payload.toString(), 'while away')
  await back.client.endAsync()
  await pub.publishAsync('exp/b', 'queued, then expired', { qos: 1 })
  await sleep(4000)
  const late = await reconnect(t, w, session)
  assert.equal(late.connack.sessionPresent, false, 'the session expired')
  // Neither the queued message nor the subscription survived: only a fresh subscription gets anything.
  await assertFreshSession(late, pub, 'exp/c')
})

test('v5: Session Expiry 0 (the default) with Clean Start 0 ends the session at disconnect', async (t) => {
  const w = await startWharf(t)
  const session = { protocolVersion: 5 as const, clientId: 'exp-zero', clean: false }
  const first = await connect(t, w, session)
  await first.subscribeAsync('zero/#', { qos: 1 })
  await first.endAsync()
  await sleep(100)
  const pub = await connect(t, w, { protocolVersion: 5 })
  await pub.publishAsync('zero/a', 'nobody home', { qos: 1 })
  const back = await reconnect(t, w, session)
  assert.equal(back.connack.sessionPresent, false)
  await assertFreshSession(back, pub, 'zero/b')
})

test('v5: DISCONNECT setting Session Expiry after 0 on CONNECT is a Protocol Error 0x82 [MQTT-3.14.2-2]', async (t) => {
  const w = await startWharf(t)
  const raw = await rawClient(t, w.port, 5)
  raw.send({ cmd: 'connect', protocolVersion: 5, clientId: 'exp-sneak', clean: false, keepalive: 0 })
  assert.equal(((await raw.next('connack')) as mqtt.IConnackPacket).reasonCode, 0)
  raw.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'sneak/#', qos: 1 }] })
  await raw.next('suback')
  raw.send({ cmd: 'disconnect', reasonCode: 0, properties: { sessionExpiryInterval: 60 } })
  const reply = (await raw.next('disconnect')) as mqtt.IDisconnectPacket
  assert.equal(reply.reasonCode, 0x82)
  await raw.closed
  const back = await reconnect(t, w, {
    protocolVersion: 5,
    clientId: 'exp-sneak',
    clean: false,
    properties: { sessionExpiryInterval: 60 },
  })
  assert.equal(back.connack.sessionPresent, false, 'the session still ended at disconnect')
})

test('v5: DISCONNECT may change a non-zero Session Expiry, and the new value applies', async (t) => {
  const w = await startWharf(t)
  const pub = await connect(t, w, { protocolVersion: 5 })
  const shortened = { protocolVersion: 5 as const, clientId: 'exp-shorter', clean: false }
  const lengthened = { protocolVersion: 5 as const, clientId: 'exp-longer', clean: false }
  const a = await connect(t, w, { ...shortened, properties: { sessionExpiryInterval: 60 } })
  const b = await connect(t, w, { ...lengthened, properties: { sessionExpiryInterval: 1 } })
  await a.subscribeAsync('change/shorter', { qos: 1 })
  await b.subscribeAsync('change/longer', { qos: 1 })
  await a.endAsync({ reasonCode: 0, properties: { sessionExpiryInterval: 1 } })
  await b.endAsync({ reasonCode: 0, properties: { sessionExpiryInterval: 60 } })
  await sleep(3000)
  await pub.publishAsync('change/longer', 'kept', { qos: 1 })
  const a2 = await reconnect(t, w, { ...shortened, properties: { sessionExpiryInterval: 60 } })
  assert.equal(a2.connack.sessionPresent, false, '60 s shortened to 1 s on DISCONNECT: expired')
  const b2 = await reconnect(t, w, { ...lengthened, properties: { sessionExpiryInterval: 60 } })
  assert.equal(b2.connack.sessionPresent, true, '1 s lengthened to 60 s on DISCONNECT: still there')
  assert.equal((await b2.inbox.next(1))[0]?.payload.toString(), 'kept')
})

test('v3.1.1: a clean session 0 never expires', async (t) => {
  const w = await startWharf(t)
  const session = { protocolVersion: 4 as const, clientId: 'v3-keeper', clean: false }
  const first = await connect(t, w, session)
  await first.subscribeAsync('v3/#', { qos: 1 })
  await first.endAsync()
  const pub = await connect(t, w, { protocolVersion: 4 })
  await pub.publishAsync('v3/a', 'still queued', { qos: 1 })
  await sleep(3000)
  const back = await reconnect(t, w, session)
  assert.equal(back.connack.sessionPresent, true)
  assert.equal((await back.inbox.next(1))[0]?.payload.toString(), 'still queued')
})

test('v5: a delayed will is published once, not again when the session then expires', async (t) => {
  const w = await startWharf(t)
  const inbox = await watch(t, w, 'wd/#')
  // Will delay shorter than the session expiry, and longer (then the will goes at the expiry).
  const shorter = await connect(t, w, {
    protocolVersion: 5,
    clientId: 'wd-once-a',
    clean: false,
    properties: { sessionExpiryInterval: 2 },
    will: will('wd/once-a', 'a', 1),
  })
  const longer = await connect(t, w, {
    protocolVersion: 5,
    clientId: 'wd-once-b',
    clean: false,
    properties: { sessionExpiryInterval: 1 },
    will: will('wd/once-b', 'b', 30),
  })
  drop(shorter)
  drop(longer)
  await inbox.next(2)
  await sleep(3000) // past both session expiries
  assert.deepEqual(inbox.messages.map((m) => m.topic).sort(), ['wd/once-a', 'wd/once-b'])
})

test('v5: reconnecting with Clean Start 1 within the will delay ends the session, so the will is sent [MQTT-3.1.2-8]', async (t) => {
  const w = await startWharf(t)
  const inbox = await watch(t, w, 'wd/#')
  const first = await connect(t, w, {
    protocolVersion: 5,
    clientId: 'wd-fresh',
    clean: false,
    properties: { sessionExpiryInterval: 60 },
    will: will('wd/fresh', 'session over', 30),
  })
  drop(first)
  await sleep(300)
  const fresh = await reconnect(t, w, { protocolVersion: 5, clientId: 'wd-fresh', clean: true })
  assert.equal(fresh.connack.sessionPresent, false)
  const [got] = await inbox.next(1, 3000)
  assert.equal(got?.payload.toString(), 'session over')
})
