// Bad input over a raw socket: each gets the standard's error condition on close or detach, and the broker
// serves the next client (rhea) as before.
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import { encodeValue } from '../../../src/protocols/amqp10/codec/encoder.ts'
import {
  encodeFrame,
  FRAME_AMQP,
  type Frame,
  FrameParser,
  protocolHeader,
} from '../../../src/protocols/amqp10/codec/frames.ts'
import type { AnyInit, Composite } from '../../../src/protocols/amqp10/codec/generated/types.ts'
import { Described, Typed } from '../../../src/protocols/amqp10/codec/values.ts'
import { connect, startWharf, type Wharf } from './helpers.ts'

/** A hand-driven AMQP 1.0 client without SASL (anonymous access on): writes frames, collects the broker's. */
class RawClient {
  readonly frames: Composite[] = []
  readonly socket: net.Socket
  readonly closed: Promise<void>
  readonly #parser = new FrameParser(1024 * 1024)
  readonly #waiters: Array<() => void> = []

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1')
    this.socket.on('error', () => {})
    this.closed = new Promise((resolve) => this.socket.on('close', () => resolve()))
    this.socket.on('data', (chunk: Buffer) => {
      let input = chunk
      for (;;) {
        const items = this.#parser.push(input)
        input = Buffer.alloc(0)
        if (items.length === 0) break
        for (const item of items)
          if (!('header' in item) && (item as Frame).performative !== null)
            this.frames.push((item as Frame).performative as Composite)
      }
      for (const w of this.#waiters.splice(0)) w()
    })
    this.socket.write(protocolHeader(0))
  }

  send(p: AnyInit, payload?: Buffer, channel = 0): void {
    this.socket.write(encodeFrame(FRAME_AMQP, channel, p, payload))
  }

  /** Waits for a frame of this kind from the broker. */
  async next(kind: string): Promise<Composite> {
    const deadline = Date.now() + 15_000
    for (;;) {
      const found = this.frames.find((f) => f.kind === kind)
      if (found !== undefined) return found
      if (Date.now() > deadline) throw new Error(`no ${kind} frame; got ${this.frames.map((f) => f.kind)}`)
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve)
        setTimeout(resolve, 100)
      })
    }
  }

  /** Open, begin and attach a sending link (the broker is the receiver) to `address`; returns its credit. */
  async sender(address: string, maxFrameSize = 65536): Promise<number> {
    this.send({ kind: 'open', containerId: 'raw', maxFrameSize })
    this.send({ kind: 'begin', nextOutgoingId: 0, incomingWindow: 5000, outgoingWindow: 5000 })
    this.send({
      kind: 'attach',
      name: 'raw-sender',
      handle: 0,
      role: false,
      source: { kind: 'source', address: 'raw' },
      target: { kind: 'target', address },
    } as AnyInit)
    const flow = await this.next('flow')
    return (flow as Composite & { kind: 'flow' }).linkCredit ?? 0
  }

  transfer(deliveryId: number, payload: Buffer, more = false, extra: Record<string, unknown> = {}): void {
    this.send(
      {
        kind: 'transfer',
        handle: 0,
        deliveryId,
        deliveryTag: Buffer.from(String(deliveryId)),
        messageFormat: 0,
        more,
        ...extra,
      } as AnyInit,
      payload,
    )
  }
}

/** A message of one data section. */
const message = (body: Buffer) => encodeValue(new Described(new Typed('ulong', 0x75n), body))

const errorOf = (frame: Composite) => (frame as { error?: { condition: string; description?: string } }).error

/** The broker still serves rhea: one message sent and received on a fresh queue. */
async function stillServes(t: Parameters<typeof startWharf>[0], wharf: Wharf, queue: string): Promise<void> {
  const connection = await connect(t, wharf)
  const sender = connection.open_sender(queue)
  await new Promise((resolve) => sender.once('sendable', resolve))
  sender.send({ body: 'alive' })
  await new Promise((resolve) => sender.once('accepted', resolve))
  const receiver = connection.open_receiver(queue)
  const got = await new Promise<{ message?: { body?: unknown } }>((resolve) => receiver.once('message', resolve))
  assert.equal(got.message!.body, 'alive')
  connection.close()
}

test('transfers beyond the link credit: the link is detached with transfer-limit-exceeded', async (t) => {
  const wharf = await startWharf(t, { anonymous: true, amqp10Limits: { linkCredit: 5 } })
  const client = new RawClient(wharf.port)
  t.after(() => client.socket.destroy())
  assert.equal(await client.sender('overrun'), 5)
  for (let i = 0; i < 50; i++) client.transfer(i, message(Buffer.from(`m${i}`)))
  const detach = await client.next('detach')
  assert.equal(errorOf(detach)?.condition, 'amqp:link:transfer-limit-exceeded')
  // Only what the credit allowed was taken; the transfers still in flight were dropped, not a connection error.
  await new Promise((r) => setTimeout(r, 200))
  assert.ok(wharf.broker.queueStats('overrun').depth <= 5)
  assert.equal(
    client.frames.find((f) => f.kind === 'close'),
    undefined,
  )
  await stillServes(t, wharf, 'after-overrun')
})

test('a message over max-message-size: the link is detached with message-size-exceeded', async (t) => {
  const wharf = await startWharf(t, { anonymous: true, amqp10Limits: { maxMessageSize: 64 * 1024 } })
  const client = new RawClient(wharf.port)
  t.after(() => client.socket.destroy())
  await client.sender('oversize')
  const body = message(Buffer.alloc(100 * 1024))
  // Over several frames: the limit counts the whole delivery.
  for (let at = 0; at < body.length; at += 16 * 1024) {
    const more = at + 16 * 1024 < body.length
    if (at === 0) client.transfer(0, body.subarray(at, at + 16 * 1024), more)
    else client.send({ kind: 'transfer', handle: 0, more } as AnyInit, body.subarray(at, at + 16 * 1024))
  }
  const detach = await client.next('detach')
  assert.equal(errorOf(detach)?.condition, 'amqp:link:message-size-exceeded')
  assert.equal(wharf.broker.getQueue('oversize')?.depth() ?? 0, 0)
  await stillServes(t, wharf, 'after-oversize')
})

test('an aborted delivery is discarded; the next one on the link is stored', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  const client = new RawClient(wharf.port)
  t.after(() => client.socket.destroy())
  await client.sender('aborts')
  const first = message(Buffer.from('never'))
  client.transfer(0, first.subarray(0, 4), true)
  client.send({ kind: 'transfer', handle: 0, more: false, aborted: true } as AnyInit)
  client.transfer(1, message(Buffer.from('kept')))
  const disposition = (await client.next('disposition')) as Composite & { kind: 'disposition' }
  assert.equal(disposition.first, 1)
  assert.equal((disposition.state as Composite | undefined)?.kind, 'accepted')
  assert.equal(wharf.broker.queueStats('aborts').depth, 1)
  const [delivery] = await wharf.broker.get('aborts', { owner: 'test', max: 1 })
  assert.equal(delivery?.message.value?.toString(), 'kept')
})

test('an unknown performative closes the connection with decode-error', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  const client = new RawClient(wharf.port)
  t.after(() => client.socket.destroy())
  client.send({ kind: 'open', containerId: 'raw' })
  await client.next('open')
  // A described list with a descriptor no performative has.
  const body = encodeValue(new Described(new Typed('ulong', 0x99n), [new Typed('uint', 1)]))
  const frame = Buffer.alloc(8 + body.length)
  frame.writeUInt32BE(frame.length, 0)
  frame[4] = 2
  body.copy(frame, 8)
  client.socket.write(frame)
  const close = await client.next('close')
  assert.equal(errorOf(close)?.condition, 'amqp:decode-error')
  await client.closed
  await stillServes(t, wharf, 'after-unknown')
})

test('an open with max-frame-size below 512 is answered with open and a close with frame-size-too-small', async (t) => {
  const wharf = await startWharf(t, { anonymous: true })
  const client = new RawClient(wharf.port)
  t.after(() => client.socket.destroy())
  client.send({ kind: 'open', containerId: 'raw', maxFrameSize: 256 })
  const close = await client.next('close')
  assert.ok(client.frames.findIndex((f) => f.kind === 'open') < client.frames.indexOf(close))
  assert.equal(errorOf(close)?.condition, 'amqp:frame-size-too-small')
  await client.closed
  await stillServes(t, wharf, 'after-small-frames')
})

test('a frame over the negotiated max-frame-size closes with framing-error', async (t) => {
  const wharf = await startWharf(t, { anonymous: true, amqp10Limits: { maxFrameSize: 4096 } })
  const client = new RawClient(wharf.port)
  t.after(() => client.socket.destroy())
  await client.sender('big-frames')
  client.transfer(0, message(Buffer.alloc(8192)))
  const close = await client.next('close')
  assert.equal(errorOf(close)?.condition, 'amqp:connection:framing-error')
  assert.match(errorOf(close)?.description ?? '', /max-frame-size 4096/)
  await stillServes(t, wharf, 'after-big-frame')
})
