// Credit flow to the socket: a consumer in ack mode with prefetch 0 (the amqplib/pika default: unlimited), or
// a no-ack one, whose socket is not read gets no more deliveries once the connection's output is backed up,
// so the queue keeps the rest ready instead of the broker holding every message in its write buffer. Once
// the client reads again every message arrives. The client is a raw socket: amqplib keeps reading its
// socket even when paused (it reads on 'readable').
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import {
  AmqpFrameParser,
  decodeMethodFrame,
  encodeMethodFrame,
  FRAME_METHOD,
  PROTOCOL_HEADER,
} from '../../../src/protocols/amqp/codec/index.ts'
import { sleep, startWharf } from './helpers.ts'

const LONG = process.env.WHARF_LONG === '1'
const MESSAGES = LONG ? 200_000 : 50_000
const BODY = Buffer.alloc(1024, 7)

/** Handshake, channel 1 and basic.consume, pipelined: the broker starts delivering without a reply read. */
function consumeRequest(queue: string, noAck: boolean): Buffer {
  return Buffer.concat([
    PROTOCOL_HEADER,
    encodeMethodFrame(0, 'connection.start-ok', {
      clientProperties: {},
      mechanism: 'PLAIN',
      response: Buffer.from('\u0000guest\u0000guest'),
      locale: 'en_US',
    }),
    encodeMethodFrame(0, 'connection.tune-ok', { channelMax: 10, frameMax: 131072, heartbeat: 0 }),
    encodeMethodFrame(0, 'connection.open', { virtualHost: '/' }),
    encodeMethodFrame(1, 'channel.open', {}),
    encodeMethodFrame(1, 'basic.consume', {
      queue,
      consumerTag: 'slow',
      noLocal: false,
      noAck,
      exclusive: false,
      nowait: false,
      arguments: {},
    }),
  ])
}

for (const noAck of [false, true]) {
  test(`a ${noAck ? 'no-ack consumer' : 'consumer in ack mode with prefetch 0'} that does not read is sent a bounded number of messages`, {
    timeout: 120_000,
  }, async (t) => {
    const { broker, port } = await startWharf(t)
    await broker.createQueue('slow', {})
    for (let i = 0; i < MESSAGES; i += 1000) {
      const batch = []
      for (let j = i; j < Math.min(MESSAGES, i + 1000); j++) batch.push({ value: BODY, key: String(j) })
      await broker.sendToQueue('slow', batch)
    }
    const queue = broker.queue('slow')
    assert.equal(queue.queueStats().ready, MESSAGES)

    // Not reading: no 'data' listener, so the socket stops taking bytes once its small buffers are full.
    const socket = net.connect(port, '127.0.0.1')
    t.after(() => socket.destroy())
    socket.on('error', () => {})
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    socket.pause()
    socket.write(consumeRequest('slow', noAck))

    // Wait until deliveries stop for a second (or everything went out, as before credit flow to the socket).
    let previous = -1
    let still = 0
    for (let i = 0; i < 150 && still < 10; i++) {
      await sleep(100)
      const gone = MESSAGES - queue.queueStats().ready
      if (gone === MESSAGES) break
      still = gone === previous ? still + 1 : 0
      previous = gone
    }
    const stats = queue.queueStats()
    const delivered = MESSAGES - stats.ready
    t.diagnostic(`sent to the stalled consumer: ${delivered} of ${MESSAGES}`)
    // Bounded by one drain of the read-ahead, the output bound and the kernel's socket buffers, not the queue.
    assert.ok(delivered < MESSAGES / 4, `${delivered} of ${MESSAGES} sent to a consumer that reads nothing`)
    if (!noAck) assert.equal(stats.inflight, delivered)

    // Read again: every message arrives, acked in batches in ack mode.
    const parser = new AmqpFrameParser({ frameMax: 131072, expectProtocolHeader: false })
    let received = 0
    let lastTag = 0
    const all = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        for (const frame of parser.push(chunk)) {
          if (frame.type !== FRAME_METHOD || frame.channel !== 1) continue
          const method = decodeMethodFrame(frame.payload)
          if (method.name !== 'basic.deliver') continue
          received++
          lastTag = Number(method.args.deliveryTag)
          if (!noAck && received % 500 === 0)
            socket.write(encodeMethodFrame(1, 'basic.ack', { deliveryTag: lastTag, multiple: true }))
          if (received === MESSAGES) resolve()
        }
      })
    })
    socket.resume()
    await all
    if (!noAck) socket.write(encodeMethodFrame(1, 'basic.ack', { deliveryTag: lastTag, multiple: true }))
    for (let i = 0; i < 100 && queue.queueStats().depth > 0; i++) await sleep(50)
    assert.equal(received, MESSAGES)
    assert.equal(queue.queueStats().depth, 0)
  })
}
