// Handshake, negotiation, heartbeats and error handling, with amqplib and raw sockets for malformed input.
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import amqp from 'amqplib'
import { connect, sleep, startWharf } from './helpers.ts'

function rawExchange(port: number, bytes: Buffer, waitMs = 1500): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      socket.destroy()
      resolve(Buffer.concat(chunks))
    }, waitMs)
    socket.on('connect', () => socket.write(bytes))
    socket.on('data', (d) => chunks.push(d))
    socket.on('error', reject)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks))
    })
  })
}

test('bad protocol header is answered with AMQP 0-9-1 and closed', async (t) => {
  const w = await startWharf(t)
  const reply = await rawExchange(w.port, Buffer.from('GET / HTTP/1.1\r\n\r\n'))
  assert.deepEqual(reply, Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1]))
})

test('PLAIN and AMQPLAIN as guest; a wrong password gets 403 ACCESS_REFUSED', async (t) => {
  const w = await startWharf(t)
  for (const mechanism of ['PLAIN', 'AMQPLAIN']) {
    const credentials =
      mechanism === 'PLAIN' ? amqp.credentials.plain('guest', 'guest') : amqp.credentials.amqplain('guest', 'guest')
    const conn = await connect(t, w.url, { credentials })
    const ch = await conn.createChannel()
    await ch.checkExchange('amq.direct')
    await conn.close()
  }
  await assert.rejects(amqp.connect(`amqp://guest:nope@127.0.0.1:${w.port}`), /ACCESS.REFUSED/)
})

test('tune: frameMax 4096 accepted, large messages split into body frames both ways', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, `${w.url}?frameMax=4096`)
  const ch = await conn.createChannel()
  await ch.assertQueue('big')
  const body = Buffer.alloc(100_000, 7)
  for (let i = 0; i < body.length; i++) body[i] = i % 251
  ch.sendToQueue('big', body)
  const m = await new Promise<amqp.GetMessage>((resolve, reject) => {
    const poll = async () => {
      const got = await ch.get('big', { noAck: true })
      if (got) resolve(got)
      else setTimeout(poll, 20)
    }
    poll().catch(reject)
  })
  assert.ok(m.content.equals(body))
  await assert.rejects(amqp.connect(`${w.url}?frameMax=1000`), /ConnectionClose|NOT.ALLOWED/)
})

test('heartbeats keep an idle connection alive', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, `${w.url}?heartbeat=1`)
  let closed = false
  conn.on('close', () => {
    closed = true
  })
  const ch = await conn.createChannel()
  await sleep(3500)
  assert.equal(closed, false)
  await ch.checkQueue((await ch.assertQueue('hb')).queue)
})

test('soft errors close only the channel with RabbitMQ reply text and ids; the connection goes on', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  const closed = new Promise<Error>((resolve) => ch.on('error', resolve))
  await assert.rejects(ch.checkQueue('nope'), (e: Error & { code?: number; classId?: number; methodId?: number }) => {
    assert.match(e.message, /NOT_FOUND - no queue 'nope' in vhost '\/'/)
    assert.equal(e.code, 404)
    assert.equal(e.classId, 50)
    assert.equal(e.methodId, 10)
    return true
  })
  await closed
  const ch2 = await conn.createChannel()
  ch2.on('error', () => {})
  await assert.rejects(ch2.checkExchange('nope-x'), /NOT_FOUND - no exchange 'nope-x'/)
  const ch3 = await conn.createChannel()
  ch3.on('error', () => {})
  await assert.rejects(ch3.assertExchange('amq.mine', 'direct'), /ACCESS_REFUSED/)
  const ch4 = await conn.createChannel()
  ch4.on('error', () => {})
  await ch4.assertQueue('equiv', { durable: true })
  await assert.rejects(ch4.assertQueue('equiv', { durable: false }), /PRECONDITION_FAILED - inequivalent arg 'durable'/)
  const ch5 = await conn.createChannel()
  await ch5.assertQueue('equiv', { durable: true })
})

test('hard errors close the connection: unknown delivery tag is a channel error, bad frames a 501', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const ch = await conn.createChannel()
  const chErr = new Promise<Error>((resolve) => ch.on('error', resolve))
  ch.ack({ fields: { deliveryTag: 99 } } as amqp.Message)
  assert.match((await chErr).message, /PRECONDITION_FAILED - unknown delivery tag 99/)

  // A raw client: valid handshake bytes are not needed for the parser to reject a bad frame-end.
  const header = Buffer.from([0x41, 0x4d, 0x51, 0x50, 0, 0, 9, 1])
  const badFrame = Buffer.from([1, 0, 0, 0, 0, 0, 4, 0, 10, 0, 11, 0x00])
  const reply = await rawExchange(w.port, Buffer.concat([header, badFrame]))
  // connection.start, then connection.close (10, 50) with 501.
  const closeAt = reply.indexOf(Buffer.from([0, 10, 0, 50]))
  assert.ok(closeAt > 0, 'connection.close sent')
  assert.equal(reply.readUInt16BE(closeAt + 4), 501)

  // Other connections are unaffected.
  const ch2 = await conn.createChannel()
  await ch2.assertQueue('still-fine')
})

test('many channels per connection, channel numbers beyond channel_max refused', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const channels = await Promise.all(Array.from({ length: 200 }, () => conn.createChannel()))
  await Promise.all(channels.map((ch, i) => ch.assertQueue(`mc-${i % 10}`)))
  await Promise.all(channels.map((ch) => ch.close()))
  const small = await connect(t, `${w.url}?channelMax=2`)
  await small.createChannel()
  await small.createChannel()
  await assert.rejects(small.createChannel(), /channel|No channels left/i)
})

test('connection.blocked / unblocked reach clients that asked for them; publishes resume', async (t) => {
  const w = await startWharf(t)
  const conn = await connect(t, w.url)
  const events: string[] = []
  conn.on('blocked', (reason: string) => events.push(`blocked:${reason}`))
  conn.on('unblocked', () => events.push('unblocked'))
  const ch = await conn.createConfirmChannel()
  await ch.assertQueue('blocky')
  ch.sendToQueue('blocky', Buffer.from('before'))
  await ch.waitForConfirms()
  w.listener.setBlocked('low on memory')
  await sleep(100)
  let confirmed = false
  ch.sendToQueue('blocky', Buffer.from('while blocked'), {}, () => {
    confirmed = true
  })
  await sleep(300)
  assert.equal(confirmed, false, 'a publishing connection is not read while blocked')
  w.listener.setBlocked(null)
  await ch.waitForConfirms()
  assert.equal(confirmed, true)
  assert.deepEqual(events, ['blocked:low on memory', 'unblocked'])
  assert.equal((await ch.checkQueue('blocky')).messageCount, 2)
})
