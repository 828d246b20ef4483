// The bytes of half-received message bodies are bounded per connection, over all its channels: a client
// that opens many channels and starts a large message on each, never finishing them, gets connection.close
// 506 RESOURCE_ERROR at the content header that would pass the bound, before its body is buffered. Messages
// that complete give their share back, so a publisher of many messages is never closed for it.
import assert from 'node:assert/strict'
import net from 'node:net'
import { type TestContext, test } from 'node:test'
import {
  AmqpFrameParser,
  type AmqpMethod,
  decodeMethodFrame,
  encodeBodyFrames,
  encodeContentHeaderFrame,
  encodeMethodFrame,
  FRAME_METHOD,
  PROTOCOL_HEADER,
  ReplyCode,
} from '../../../src/protocols/amqp/codec/index.ts'
import { connect, startWharf } from './helpers.ts'

const LIMIT = 256 * 1024
const FRAME_MAX = 131072

function handshake(channels: number): Buffer {
  const frames = [
    PROTOCOL_HEADER,
    encodeMethodFrame(0, 'connection.start-ok', {
      clientProperties: {},
      mechanism: 'PLAIN',
      response: Buffer.from('\u0000guest\u0000guest'),
      locale: 'en_US',
    }),
    encodeMethodFrame(0, 'connection.tune-ok', { channelMax: 100, frameMax: FRAME_MAX, heartbeat: 0 }),
    encodeMethodFrame(0, 'connection.open', { virtualHost: '/' }),
  ]
  for (let c = 1; c <= channels; c++) frames.push(encodeMethodFrame(c, 'channel.open', {}))
  return Buffer.concat(frames)
}

/** basic.publish and a content header declaring `declared` bytes, then only `sent` bytes of the body. */
function partialPublish(channel: number, declared: number, sent: number): Buffer {
  return Buffer.concat([
    encodeMethodFrame(channel, 'basic.publish', {
      exchange: '',
      routingKey: 'big',
      mandatory: false,
      immediate: false,
    }),
    encodeContentHeaderFrame(channel, declared, {}),
    encodeBodyFrames(channel, Buffer.alloc(sent, 1), FRAME_MAX),
  ])
}

test('half-received bodies over the connection bound close it with 506 RESOURCE_ERROR', {
  timeout: 20_000,
}, async (t) => {
  const { port, broker } = await startWharf(t, { pendingBodyBytes: LIMIT })
  await broker.createQueue('big', {})
  const socket = net.connect(port, '127.0.0.1')
  t.after(() => socket.destroy())
  const parser = new AmqpFrameParser({ frameMax: FRAME_MAX, expectProtocolHeader: false })
  let opened: () => void = () => {}
  const open = new Promise<void>((resolve) => {
    opened = resolve
  })
  const closed = new Promise<{ replyCode: number; replyText: string }>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of parser.push(chunk)) {
        if (frame.type !== FRAME_METHOD || frame.channel !== 0) continue
        const method = decodeMethodFrame(frame.payload)
        if (method.name === 'connection.open-ok') opened()
        if (method.name === 'connection.close') resolve(method.args)
      }
    })
    socket.on('error', reject)
    socket.on('close', () => reject(new Error('closed without connection.close')))
  })
  await new Promise<void>((resolve) => socket.once('connect', resolve))
  socket.write(handshake(5))
  await open // body frames over 4096 bytes only once frame-max is tuned
  // Each channel declares 100 KiB and sends 10 KiB: the third header would hold 300 KiB, over 256 KiB.
  const parts: Buffer[] = []
  for (let c = 1; c <= 5; c++) parts.push(partialPublish(c, 100 * 1024, 10 * 1024))
  socket.write(Buffer.concat(parts))
  const close = await Promise.race([
    closed,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no connection.close within 5 s')), 5000)),
  ])
  assert.equal(close.replyCode, ReplyCode.RESOURCE_ERROR)
  assert.match(close.replyText, /^RESOURCE_ERROR - message bodies held for this connection before publishing/)
  assert.equal(broker.queue('big').depth(), 0)
})

test('completed messages give their bytes back: many messages through one small bound are all confirmed', {
  timeout: 20_000,
}, async (t) => {
  const { url, broker } = await startWharf(t, { pendingBodyBytes: LIMIT })
  const conn = await connect(t, url)
  const ch = await conn.createConfirmChannel()
  await ch.assertQueue('big')
  const body = Buffer.alloc(200 * 1024, 2)
  for (let i = 0; i < 20; i++) ch.sendToQueue('big', body)
  await ch.waitForConfirms()
  assert.equal(broker.queue('big').depth(), 20)
})

/** A raw connection after the handshake: writes frames, waits for a method by name. */
async function rawConnection(t: TestContext, port: number, channels: number) {
  const socket = net.connect(port, '127.0.0.1')
  t.after(() => socket.destroy())
  socket.on('error', () => {})
  const parser = new AmqpFrameParser({ frameMax: FRAME_MAX, expectProtocolHeader: false })
  const seen: AmqpMethod[] = []
  let wake: () => void = () => {}
  socket.on('data', (chunk: Buffer) => {
    for (const frame of parser.push(chunk)) if (frame.type === FRAME_METHOD) seen.push(decodeMethodFrame(frame.payload))
    wake()
  })
  const next = async (name: string): Promise<AmqpMethod> => {
    const deadline = Date.now() + 5000
    for (;;) {
      const at = seen.findIndex((m) => m.name === name)
      if (at >= 0) return seen.splice(0, at + 1).pop()!
      if (Date.now() > deadline) throw new Error(`no ${name} within 5 s (seen ${seen.map((m) => m.name)})`)
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 50)
      })
    }
  }
  await new Promise<void>((resolve) => socket.once('connect', resolve))
  socket.write(handshake(channels))
  await next('connection.open-ok')
  return { socket, next }
}

function publishWhole(channel: number, body: Buffer): Buffer {
  return Buffer.concat([partialPublish(channel, body.length, 0), encodeBodyFrames(channel, body, FRAME_MAX)])
}

test('an uncommitted transaction counts too: commit and rollback give the bytes back, one that keeps growing gets 506', {
  timeout: 20_000,
}, async (t) => {
  const { port, broker } = await startWharf(t, { pendingBodyBytes: LIMIT })
  await broker.createQueue('big', {})
  const { socket, next } = await rawConnection(t, port, 1)
  const body = Buffer.alloc(100 * 1024, 3)
  socket.write(encodeMethodFrame(1, 'tx.select', {}))
  await next('tx.select-ok')
  socket.write(Buffer.concat([publishWhole(1, body), publishWhole(1, body), encodeMethodFrame(1, 'tx.commit', {})]))
  await next('tx.commit-ok')
  assert.equal(broker.queue('big').depth(), 2)
  socket.write(Buffer.concat([publishWhole(1, body), publishWhole(1, body), encodeMethodFrame(1, 'tx.rollback', {})]))
  await next('tx.rollback-ok')
  socket.write(Buffer.concat([publishWhole(1, body), publishWhole(1, body), encodeMethodFrame(1, 'tx.commit', {})]))
  await next('tx.commit-ok')
  assert.equal(broker.queue('big').depth(), 4, 'bytes given back by the commit and the rollback')
  // Three uncommitted 100 KiB publishes: 300 KiB held, over 256 KiB.
  socket.write(Buffer.concat([publishWhole(1, body), publishWhole(1, body), publishWhole(1, body)]))
  const close = await next('connection.close')
  assert.equal(close.name === 'connection.close' && close.args.replyCode, ReplyCode.RESOURCE_ERROR)
  assert.equal(broker.queue('big').depth(), 4)
})
