// AMQP authentication through broker.security with real clients: amqplib PLAIN/AMQPLAIN against users of the
// store (403 with RabbitMQ's text that does not say which part was wrong), guest as a deletable store user,
// guest refused from a non-loopback address, vhost refusal, amqplib over amqps:// with the development CA, and a raw AMQPS handshake that sends EXTERNAL
// without a client certificate.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { test } from 'node:test'
import tls from 'node:tls'
import amqp from 'amqplib'
import {
  AmqpFrameParser,
  type AmqpMethod,
  decodeMethodFrame,
  encodeMethodFrame,
  PROTOCOL_HEADER,
} from '../../../src/protocols/amqp/codec/index.ts'
import { devCertificates } from '../../fixtures/tls.ts'
import { connect, startWharf } from './helpers.ts'

const users = {
  users: [
    { name: 'alice', password: 'alice-pw' },
    { name: 'bob', password: 'bob-pw' },
  ],
}

const refused = (mechanism: string) =>
  `ACCESS_REFUSED - Login was refused using authentication mechanism ${mechanism}. For details see the broker logfile.`

/** The reply text amqplib reports for a refused handshake. */
async function handshakeRefusal(connecting: Promise<unknown>): Promise<string> {
  try {
    await connecting
  } catch (error) {
    const match = /with message "(.*)"/.exec((error as Error).message)
    return match?.[1] ?? (error as Error).message
  }
  throw new Error('the connection was accepted')
}

test('PLAIN and AMQPLAIN log in users of the store; a wrong password or unknown user gets the same 403', async (t) => {
  const w = await startWharf(t, {}, { security: users })
  const base = `127.0.0.1:${w.port}`
  for (const credentials of [
    amqp.credentials.plain('alice', 'alice-pw'),
    amqp.credentials.amqplain('alice', 'alice-pw'),
  ]) {
    const conn = await connect(t, `amqp://${base}`, { credentials })
    const ch = await conn.createChannel()
    await ch.assertQueue('alice-q')
    await conn.close()
  }
  const conn = await connect(t, `amqp://alice:alice-pw@${base}`, {
    clientProperties: { connection_name: 'alice-conn' },
  })
  const [info] = w.listener.connections.list().filter((c) => c.details?.connectionName === 'alice-conn')
  assert.equal(info?.user, 'alice')
  assert.equal(info?.tls, false)
  await conn.close()

  assert.equal(await handshakeRefusal(amqp.connect(`amqp://bob:wrong@${base}`)), refused('PLAIN'))
  assert.equal(await handshakeRefusal(amqp.connect(`amqp://nobody:bob-pw@${base}`)), refused('PLAIN'))
  assert.equal(
    await handshakeRefusal(amqp.connect(`amqp://${base}`, { credentials: amqp.credentials.amqplain('bob', 'wrong') })),
    refused('AMQPLAIN'),
  )
  // guest is only created when no user is configured.
  assert.equal(await handshakeRefusal(amqp.connect(`amqp://guest:guest@${base}`)), refused('PLAIN'))
  const bob = await connect(t, `amqp://bob:bob-pw@${base}`)
  await bob.close()
})

test('guest is a loopback-only user of the store: it logs in until it is deleted', async (t) => {
  const w = await startWharf(t)
  const url = `amqp://guest:guest@127.0.0.1:${w.port}`
  assert.equal(w.broker.security.users.get('guest')?.loopbackOnly, true)
  const conn = await connect(t, url)
  await conn.close()
  await w.broker.security.users.delete('guest')
  assert.equal(await handshakeRefusal(amqp.connect(url)), refused('PLAIN'))
})

/** A non-loopback IPv4 address of this machine: connecting to it from here is not a loopback connection. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  return undefined
}

test('guest is refused from a non-loopback peer, where another user logs in', async (t) => {
  const address = externalAddress()
  if (address === undefined) {
    t.skip('this machine has no non-loopback IPv4 address')
    return
  }
  const w = await startWharf(t, {}, { host: address })
  await w.broker.security.users.put('alice', { password: 'alice-pw', tags: [] })
  assert.equal(await handshakeRefusal(amqp.connect(`amqp://guest:guest@${address}:${w.port}`)), refused('PLAIN'))
  const conn = await connect(t, `amqp://alice:alice-pw@${address}:${w.port}`)
  await conn.close()
})

// amqplib does not report connection.open's refusal text; security-pika.test.ts checks the 530 text.
test('only vhost / exists: another is refused at connection.open', async (t) => {
  const w = await startWharf(t, {}, { security: users })
  await assert.rejects(
    amqp.connect(`amqp://alice:alice-pw@127.0.0.1:${w.port}/other`),
    /Expected ConnectionOpenOk; got <ConnectionClose/,
  )
  const conn = await connect(t, `amqp://alice:alice-pw@127.0.0.1:${w.port}/%2F`)
  await conn.close()
})

test('amqplib over amqps:// with the CA: user and TLS shown; without the CA the certificate is refused', async (t) => {
  const w = await startWharf(t, {}, { security: users, tls: { clientAuth: 'none' } })
  assert.ok(w.listener.tlsPort)
  assert.ok(w.listener.urls.includes(`amqps://127.0.0.1:${w.listener.tlsPort}`))
  const certs = await devCertificates()
  const url = `amqps://alice:alice-pw@localhost:${w.listener.tlsPort}`
  const conn = await connect(t, url, {
    ca: [readFileSync(certs.ca)],
    clientProperties: { connection_name: 'tls-conn' },
  })
  const ch = await conn.createChannel()
  await ch.assertQueue('tls-q')
  ch.sendToQueue('tls-q', Buffer.from('over tls'))
  const got = await new Promise<amqp.GetMessage>((resolve, reject) => {
    const poll = () => ch.get('tls-q', { noAck: true }).then((m) => (m ? resolve(m) : setTimeout(poll, 20)), reject)
    poll()
  })
  assert.equal(got.content.toString(), 'over tls')
  const [info] = w.listener.connections.list().filter((c) => c.details?.connectionName === 'tls-conn')
  assert.equal(info?.user, 'alice')
  assert.equal(info?.tls, true)
  await conn.close()

  await assert.rejects(amqp.connect(url), /self-signed certificate|unable to (get|verify)/)
  assert.equal(
    await handshakeRefusal(
      amqp.connect(`amqps://alice:wrong@localhost:${w.listener.tlsPort}`, { ca: [readFileSync(certs.ca)] }),
    ),
    refused('PLAIN'),
  )
})

/** A raw AMQPS handshake (no client certificate) that answers connection.start with `mechanism` anyway. */
async function rawStartOk(port: number, ca: Buffer, mechanism: string): Promise<{ offered: string; close: string }> {
  const socket = tls.connect({ host: 'localhost', port, ca: [ca] })
  const parser = new AmqpFrameParser({ frameMax: 131072, expectProtocolHeader: false })
  const methods: AmqpMethod[] = []
  try {
    await once(socket, 'secureConnect')
    socket.write(PROTOCOL_HEADER)
    for await (const chunk of socket) {
      for (const frame of parser.push(chunk as Buffer)) methods.push(decodeMethodFrame(frame.payload))
      const start = methods.find((m) => m.name === 'connection.start')
      if (start && methods.length === 1) {
        socket.write(
          encodeMethodFrame(0, 'connection.start-ok', {
            clientProperties: {},
            mechanism,
            response: Buffer.alloc(0),
            locale: 'en_US',
          }),
        )
      }
      const close = methods.find((m) => m.name === 'connection.close')
      if (start?.name === 'connection.start' && close?.name === 'connection.close')
        return { offered: start.args.mechanisms.toString(), close: `${close.args.replyCode} ${close.args.replyText}` }
    }
    throw new Error(`no connection.close: ${methods.map((m) => m.name).join(', ')}`)
  } finally {
    socket.destroy()
  }
}

test('EXTERNAL without a verified client certificate is not offered, and refused if sent anyway', async (t) => {
  const w = await startWharf(t, {}, { security: users, tls: { clientAuth: 'request' } })
  const certs = await devCertificates()
  const { offered, close } = await rawStartOk(w.listener.tlsPort!, readFileSync(certs.ca), 'EXTERNAL')
  assert.equal(offered, 'PLAIN AMQPLAIN')
  assert.equal(close, `403 ${refused('EXTERNAL')}`)
})
