// Hostile bytes into the MQTT listener over real sockets: valid MQTT 3.1.1 and 5 packets (CONNECT with will
// and properties, PUBLISH at each QoS, SUBSCRIBE with options, UNSUBSCRIBE, PUBREL) from mqtt-packet, damaged
// by truncation, byte flips, insertion and length-field corruption, each on its own connection after a valid
// CONNECT (or in place of it). Checked: the broker answers or closes that one connection, and a real client
// still connects, subscribes and receives afterwards. WHARF_LONG=1 runs 1,000,000 inputs instead of 300.
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import fc from 'fast-check'
import mqttPacket from 'mqtt-packet'
import { collect, connect, startWharf } from '../protocols/mqtt/helpers.ts'
import { damagedBytes } from './mutations.ts'

const runs = Number(process.env.WHARF_FUZZ_RUNS) || (process.env.WHARF_LONG === '1' ? 1_000_000 : 300)

function encode(packet: object, protocolVersion: 4 | 5): Buffer {
  return mqttPacket.generate(packet as mqttPacket.Packet, { protocolVersion })
}

const connect5 = encode(
  {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 5,
    clean: true,
    clientId: 'fz',
    keepalive: 30,
    properties: { sessionExpiryInterval: 10, receiveMaximum: 10, userProperties: { a: 'b' } },
    will: { topic: 'fz/will', payload: Buffer.from('w'), qos: 1, retain: false, properties: { willDelayInterval: 1 } },
  },
  5,
)
const connect4 = encode(
  { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'fz4', keepalive: 30 },
  4,
)
const seeds: Array<{ connect: Buffer; packet: Buffer }> = [
  { connect: connect5, packet: connect5 },
  { connect: connect4, packet: connect4 },
  ...[0, 1, 2].map((qos) => ({
    connect: connect5,
    packet: encode(
      {
        cmd: 'publish',
        topic: 'fz/a',
        payload: Buffer.from('payload'),
        qos,
        messageId: qos > 0 ? 7 : undefined,
        retain: qos === 1,
        properties: { messageExpiryInterval: 5, contentType: 'text/plain', userProperties: { k: 'v' } },
      },
      5,
    ),
  })),
  {
    connect: connect5,
    packet: encode(
      {
        cmd: 'subscribe',
        messageId: 3,
        subscriptions: [
          { topic: 'fz/#', qos: 1, nl: true, rap: true, rh: 1 },
          { topic: '$share/g/fz/+', qos: 2 },
        ],
        properties: { subscriptionIdentifier: 5 },
      },
      5,
    ),
  },
  {
    connect: connect4,
    packet: encode({ cmd: 'subscribe', messageId: 3, subscriptions: [{ topic: 'a/+/b', qos: 1 }] }, 4),
  },
  { connect: connect5, packet: encode({ cmd: 'unsubscribe', messageId: 4, unsubscriptions: ['fz/#'] }, 5) },
  { connect: connect5, packet: encode({ cmd: 'pubrel', messageId: 9, reasonCode: 0 }, 5) },
]

/** Byte damage, plus the remaining-length field set to a large or malformed varint. */
function damaged(bytes: Buffer): fc.Arbitrary<Buffer> {
  return damagedBytes(
    bytes,
    fc
      .constantFrom(
        Buffer.from([0xff, 0xff, 0xff, 0x7f]),
        Buffer.from([0xff, 0xff, 0xff, 0xff, 0x01]),
        Buffer.from([0x80, 0x80, 0x80, 0x80]),
      )
      .map((length) => Buffer.concat([bytes.subarray(0, 1), length, bytes.subarray(2)])),
  )
}

/** Sends the bytes on a fresh connection; resolves when the broker closes it or after a short quiet time. */
function send(port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes))
    const done = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve()
    }
    const timer = setTimeout(done, 30)
    socket.on('data', () => {})
    socket.on('error', done)
    socket.on('close', done)
  })
}

function memoryInUse(): number {
  ;(globalThis as { gc?: () => void }).gc?.()
  const m = process.memoryUsage()
  return m.heapUsed + m.external
}
const mib = (n: number) => (n / 2 ** 20).toFixed(0)

test(`MQTT wire: ${runs} damaged packets, one connection each; the broker keeps serving`, async (t) => {
  const wharf = await startWharf(t)
  const before = memoryInUse()
  await fc.assert(
    fc.asyncProperty(
      fc.nat(seeds.length - 1).chain((i) => fc.tuple(fc.constant(i), damaged(seeds[i]!.packet), fc.boolean())),
      async ([i, bytes, afterConnect]) => {
        const seed = seeds[i]!
        await send(wharf.port, afterConnect ? Buffer.concat([seed.connect, bytes]) : bytes)
      },
    ),
    { numRuns: runs },
  )
  // What the run left behind: sessions a damaged CONNECT made with its own client id and expiry are state the
  // protocol asks for; heap and Buffers (after a GC, when exposed) should otherwise be back near the start.
  t.diagnostic(`memory in use ${mib(before)} -> ${mib(memoryInUse())} MiB; queues ${wharf.broker.listQueues().length}`)
  // A real client still gets the whole service.
  const subscriber = await connect(t, wharf, { clientId: 'after-fuzz-sub' })
  await subscriber.subscribeAsync('after/fuzz', { qos: 1 })
  const inbox = collect(subscriber)
  const publisher = await connect(t, wharf, { clientId: 'after-fuzz-pub' })
  await publisher.publishAsync('after/fuzz', 'still here', { qos: 1 })
  const [message] = await inbox.next(1)
  assert.equal(message?.payload.toString(), 'still here')
})
