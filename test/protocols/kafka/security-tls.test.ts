// The Kafka TLS port with real clients: Metadata advertises the port the client came in on, and a verified
// client certificate names the principal (its CN) that ACLs then apply to.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { devCertificates } from '../../fixtures/tls.ts'
import { run, startHarness } from './harness.ts'

async function ssl(client?: 'alice' | 'bob'): Promise<string[]> {
  const files = await devCertificates()
  const args = ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${files.ca}`]
  if (client !== undefined)
    args.push(
      '-X',
      `ssl.certificate.location=${files.clients[client]!.cert}`,
      '-X',
      `ssl.key.location=${files.clients[client]!.key}`,
    )
  return args
}

test('Metadata advertises the TLS port on a TLS connection and the plaintext port on a plaintext one', async (t) => {
  const h = await startHarness(t, {}, { tls: 'none' })
  assert.notEqual(h.tlsPort, h.port)
  await h.broker.createStream('ports', { partitions: 1 })
  const overTls = await run('kcat', ['-b', h.tlsBootstrap, ...(await ssl()), '-L'])
  assert.match(overTls.stdout, new RegExp(`broker 0 at 127\\.0\\.0\\.1:${h.tlsPort}`))
  assert.match(overTls.stdout, /topic "ports" with 1 partitions/)
  const plain = await run('kcat', ['-b', h.bootstrap, '-L'])
  assert.match(plain.stdout, new RegExp(`broker 0 at 127\\.0\\.0\\.1:${h.port}\\b`))
  // Producing over TLS works end to end (the client follows the advertised TLS port).
  await run('kcat', ['-b', h.tlsBootstrap, ...(await ssl()), '-P', '-t', 'ports'], { input: 'secure\n' })
  assert.equal(h.broker.stream('ports').partitionLog(0).highWatermark, 1)
  // A plaintext client on the TLS port gets nowhere.
  await assert.rejects(run('kcat', ['-b', h.tlsBootstrap, '-L', '-m', '3'], { timeoutMs: 20_000 }))
})

test('mTLS: the client certificate CN is the principal; an ACL denying bob Write tells the two apart', async (t) => {
  const h = await startHarness(
    t,
    {},
    {
      tls: 'request',
      anonymous: false,
      acls: [
        {
          principal: 'User:bob',
          host: '*',
          operation: 'Write',
          permission: 'Deny',
          resourceType: 'Topic',
          resourceName: 'certs',
          patternType: 'Literal',
        },
      ],
    },
  )
  await h.broker.createStream('certs', { partitions: 1 })
  await run('kcat', ['-b', h.tlsBootstrap, ...(await ssl('alice')), '-P', '-t', 'certs'], { input: 'from-alice\n' })
  assert.equal(h.broker.stream('certs').partitionLog(0).highWatermark, 1)

  const bob = await run(
    'kcat',
    ['-b', h.tlsBootstrap, ...(await ssl('bob')), '-P', '-t', 'certs', '-X', 'message.timeout.ms=5000'],
    { input: 'from-bob\n', timeoutMs: 20_000 },
  ).then(
    () => 'delivered',
    (error: Error) => error.message,
  )
  assert.match(bob, /Topic authorization failed/i)
  assert.equal(h.broker.stream('certs').partitionLog(0).highWatermark, 1)
  // bob may still read: the rule denies Write only.
  const read = await run('kcat', [
    '-b',
    h.tlsBootstrap,
    ...(await ssl('bob')),
    '-C',
    '-t',
    'certs',
    '-o',
    'beginning',
    '-e',
  ])
  assert.equal(read.stdout.trim(), 'from-alice')

  // Without a certificate (and anonymous off) a TLS client is not let in.
  await assert.rejects(
    run('kcat', ['-b', h.tlsBootstrap, ...(await ssl()), '-P', '-t', 'certs', '-X', 'message.timeout.ms=4000'], {
      input: 'nobody\n',
      timeoutMs: 20_000,
    }),
  )
  assert.equal(h.broker.stream('certs').partitionLog(0).highWatermark, 1)
})

test('mTLS connections are listed with the certificate user and tls: true', async (t) => {
  const h = await startHarness(t, {}, { tls: 'require' })
  const { spawn } = await import('node:child_process')
  // A consumer that stays connected while the connection list is read.
  const consumer = spawn(
    'kcat',
    ['-b', h.tlsBootstrap, ...(await ssl('alice')), '-C', '-t', 'listed', '-X', 'allow.auto.create.topics=true'],
    { stdio: 'ignore' },
  )
  h.defer(() => consumer.kill('SIGKILL'))
  let info = h.listener.connections.list().find((c) => c.user === 'alice')
  for (let i = 0; i < 100 && info === undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    info = h.listener.connections.list().find((c) => c.user === 'alice')
  }
  assert.ok(info, 'a connection authenticated by its certificate')
  assert.equal(info.tls, true)
  assert.equal(info.details?.mechanism, 'EXTERNAL')
})
