// The broker-to-broker link speaks TLS when the brokers have a certificate, and a peer must prove it knows the
// cluster's secret (kept in the shared database) before it may ask for anything: a plaintext client, and a TLS
// client that answers the challenge with a wrong proof, are closed without being served.
import assert from 'node:assert/strict'
import net from 'node:net'
import { test } from 'node:test'
import tls from 'node:tls'
import amqp from 'amqplib'
import { encodeFrame, FrameReader } from '../../src/server/cluster-link/frames.ts'
import { type ClusterBroker, clusterView, startCluster, streamOwner } from '../fixtures/cluster.ts'
import { devCertificates } from '../fixtures/tls.ts'
import { sleep } from './kafka-helpers.ts'

/** Everything a socket receives until it closes (or 10 s pass). */
function collect(socket: net.Socket): Promise<{ frames: unknown[]; closed: boolean }> {
  return new Promise((resolve) => {
    const reader = new FrameReader(1 << 20)
    const frames: unknown[] = []
    const timer = setTimeout(() => resolve({ frames, closed: false }), 10_000)
    socket.on('data', (chunk: Buffer) => {
      try {
        frames.push(...reader.push(chunk))
      } catch {
        frames.push('garbage')
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ frames, closed: true })
    })
  })
}

test('the cluster link over TLS: forwarding works, a plaintext peer and a peer without the secret are refused', {
  timeout: 300_000,
}, async (t) => {
  const certs = await devCertificates()
  const cluster = await startCluster(t, {
    brokers: 2,
    listeners: ['amqp', 'http'],
    args: ['--tls-cert-file', certs.cert, '--tls-key-file', certs.key],
  })
  if (cluster === undefined) return
  const [a, b] = cluster.brokers as [ClusterBroker, ClusterBroker]
  const declare = await amqp.connect(`amqp://guest:guest@127.0.0.1:${a.ports.amqp}`)
  await (await declare.createChannel()).assertQueue('secure', { durable: true })
  await declare.close()
  // Both members live and the queue owned: the owner's link endpoint is in the view.
  let owner = await streamOwner(a, 'secure')
  let answer = await clusterView(a)
  while (answer.members.length < 2) {
    await sleep(100)
    answer = await clusterView(a)
    owner = await streamOwner(a, 'secure')
  }
  const other = owner === a.nodeId ? b : a
  const link = answer.members.find((m) => m.id === owner)!.endpoints.cluster!
  assert.ok(link.port > 0, 'the owner advertises its cluster link')

  await t.test('a publish on the other broker reaches the queue through the TLS link', async () => {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${other.ports.amqp}`)
    const channel = await connection.createConfirmChannel()
    let known = false
    for (let tries = 0; !known && tries < 100; tries++) {
      known = await channel.checkQueue('secure').then(
        () => true,
        () => false,
      )
      if (!known) await sleep(100)
    }
    channel.sendToQueue('secure', Buffer.from('over tls'), { persistent: true })
    await channel.waitForConfirms()
    await connection.close()
    const reader = await amqp.connect(`amqp://guest:guest@127.0.0.1:${cluster.byNodeId(owner!).ports.amqp}`)
    const rch = await reader.createChannel()
    const message = await rch.get('secure', { noAck: true })
    assert.ok(message !== false)
    assert.equal(message.content.toString(), 'over tls')
    await reader.close()
  })

  await t.test('a plaintext hello gets no challenge', async () => {
    const socket = net.connect(link.port, '127.0.0.1')
    const received = collect(socket)
    socket.write(encodeFrame({ t: 'hello', node: 99, nonce: '0'.repeat(32) }))
    const { frames } = await received
    socket.destroy()
    assert.ok(!frames.some((f) => (f as { t?: string })?.t === 'challenge'), JSON.stringify(frames))
  })

  await t.test('a TLS peer with a wrong proof is closed without being served', async () => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port: link.port,
      ca: await import('node:fs').then((fs) => fs.readFileSync(certs.ca)),
    })
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve())
      socket.once('error', reject)
    })
    const received = collect(socket)
    socket.write(encodeFrame({ t: 'hello', node: 99, nonce: 'a'.repeat(32) }))
    await sleep(300)
    socket.write(encodeFrame({ t: 'auth', proof: 'b'.repeat(64) }))
    socket.write(encodeFrame({ t: 'req', id: 1, op: 'purge', queue: 'secure' }))
    const { frames, closed } = await received
    assert.equal(closed, true, 'closed by the broker')
    assert.equal((frames[0] as { t?: string })?.t, 'challenge', 'the broker proved itself first')
    assert.deepEqual(frames.slice(1), [], 'nothing after a wrong proof: no ready, no answer')
  })
})
