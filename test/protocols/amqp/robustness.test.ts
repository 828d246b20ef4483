// Misbehaving peers: after a real handshake, random and truncated method frames, content out of order and
// huge declared sizes must end in channel.close/connection.close for that connection only — never a crash.
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import { encodeMethodFrame, METHODS_BY_NAME, PROTOCOL_HEADER } from '../../../src/protocols/amqp/codec/index.ts'
import { connect, startWharf } from './helpers.ts'

function handshake(): Buffer {
  const plain = Buffer.from('\u0000guest\u0000guest')
  return Buffer.concat([
    PROTOCOL_HEADER,
    encodeMethodFrame(0, 'connection.start-ok', {
      clientProperties: {},
      mechanism: 'PLAIN',
      response: plain,
      locale: 'en_US',
    }),
    encodeMethodFrame(0, 'connection.tune-ok', { channelMax: 10, frameMax: 131072, heartbeat: 0 }),
    encodeMethodFrame(0, 'connection.open', { virtualHost: '/' }),
    encodeMethodFrame(1, 'channel.open', {}),
  ])
}

/** xorshift32: deterministic randomness so a failure is reproducible. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x1_0000_0000
  }
}

function garbageFrame(random: () => number): Buffer {
  const names = Object.keys(METHODS_BY_NAME)
  const info = METHODS_BY_NAME[names[Math.floor(random() * names.length)] as keyof typeof METHODS_BY_NAME]!
  const argsLength = Math.floor(random() * 40)
  const payload = Buffer.alloc(4 + argsLength)
  payload.writeUInt16BE(info.classId, 0)
  payload.writeUInt16BE(info.methodId, 2)
  for (let i = 4; i < payload.length; i++) payload[i] = Math.floor(random() * 256)
  const type = random() < 0.8 ? 1 : Math.floor(random() * 4) + 1
  const frame = Buffer.alloc(8 + payload.length)
  frame[0] = type
  frame.writeUInt16BE(random() < 0.9 ? 1 : Math.floor(random() * 3), 1)
  frame.writeUInt32BE(payload.length, 3)
  payload.copy(frame, 7)
  frame[frame.length - 1] = 0xce
  return frame
}

function session(port: number, bytes: Buffer): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    // Long enough for the login (an scrypt hash on the thread pool) on a loaded machine.
    const timer = setTimeout(() => socket.destroy(), 3000)
    socket.on('connect', () => socket.write(bytes))
    socket.on('data', (d) => chunks.push(d))
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks))
    })
  })
}

test('random method frames after the handshake never crash the broker', async (t) => {
  const w = await startWharf(t)
  const healthy = await connect(t, w.url)
  const ch = await healthy.createChannel()
  await ch.assertQueue('survivor')
  const random = rng(20261127)
  const sessions: Promise<Buffer>[] = []
  for (let i = 0; i < 60; i++) {
    const frames = Array.from({ length: 1 + Math.floor(random() * 5) }, () => garbageFrame(random))
    sessions.push(session(w.port, Buffer.concat([handshake(), ...frames])))
    if (sessions.length >= 10) await Promise.all(sessions.splice(0))
  }
  await Promise.all(sessions)
  // Content out of order, a body bigger than declared, and a header announcing 2^62 bytes.
  const header = Buffer.from([2, 0, 1, 0, 0, 0, 14, 0, 60, 0, 0, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xce])
  const reply = await session(w.port, Buffer.concat([handshake(), header]))
  const closeAt = reply.indexOf(Buffer.from([0, 10, 0, 50]))
  assert.ok(closeAt > 0, 'content header without publish closes the connection')
  assert.equal(reply.readUInt16BE(closeAt + 4), 505)
  const publish = encodeMethodFrame(1, 'basic.publish', { exchange: '', routingKey: 'survivor' })
  const absurd = await session(w.port, Buffer.concat([handshake(), publish, header]))
  assert.ok(absurd.indexOf(Buffer.from([0, 10, 0, 50])) > 0, 'a 2^62-byte body is a connection error')
  // 128 MiB announced: over the body limit, a soft error (channel.close 406) before any byte is buffered.
  const big = Buffer.from([2, 0, 1, 0, 0, 0, 14, 0, 60, 0, 0, 0, 0, 0, 0, 0x08, 0, 0, 0, 0, 0, 0xce])
  const bigReply = await session(w.port, Buffer.concat([handshake(), publish, big]))
  const channelClose = bigReply.indexOf(Buffer.from([0, 20, 0, 40]))
  assert.ok(channelClose > 0, 'oversized body closes the channel')
  assert.equal(bigReply.readUInt16BE(channelClose + 4), 406)
  // The healthy connection and the broker still work.
  await ch.checkQueue('survivor')
  ch.sendToQueue('survivor', Buffer.from('still here'))
  const got = await ch.get('survivor', { noAck: true })
  assert.ok(got === false || got.content.toString() === 'still here')
  assert.equal(w.listener.connectionCount >= 1, true)
})
