// SCRAM credentials managed through Kafka's own APIs (what `kafka-configs --entity-type users` sends), and the
// SaslAuthenticate failure on the wire. No installed client speaks DescribeUserScramCredentials or
// AlterUserScramCredentials (kafkajs 2.2.4, kafka-python 2.0.2, kcat 1.7.1 do not), so those requests go over a
// raw socket with Wharf's codec, computed as Kafka's Java admin client computes them; kcat then logs in with
// the resulting credential.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test } from 'node:test'
import { saltPassword } from '../../../src/broker/security/scram.ts'
import {
  type AlterUserScramCredentialsResponse,
  ApiKey,
  type DescribeUserScramCredentialsResponse,
  type MetadataResponse,
  type SaslAuthenticateResponse,
  type SaslHandshakeResponse,
} from '../../../src/protocols/kafka/codec/index.ts'
import { run, startHarness } from './harness.ts'
import { RawClient } from './raw-client.ts'

const users = [
  { name: 'admin', password: 'admin-pw', tags: ['administrator'] },
  { name: 'bob', password: 'bob-pw' },
]

async function loginPlain(c: RawClient, user: string, password: string): Promise<SaslAuthenticateResponse> {
  c.send(ApiKey.SaslHandshake, 1, 1, { mechanism: 'PLAIN' })
  const handshake = await c.response<SaslHandshakeResponse>(ApiKey.SaslHandshake, 1)
  assert.equal(handshake.body.errorCode, 0)
  assert.deepEqual(handshake.body.mechanisms, ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'])
  c.send(ApiKey.SaslAuthenticate, 1, 2, { authBytes: Buffer.from(`\0${user}\0${password}`) })
  return (await c.response<SaslAuthenticateResponse>(ApiKey.SaslAuthenticate, 1)).body
}

function kcatScram512(bootstrap: string, user: string, password: string): string[] {
  const settings = ['security.protocol=SASL_PLAINTEXT', 'sasl.mechanisms=SCRAM-SHA-512', `sasl.username=${user}`]
  return ['-b', bootstrap, ...settings.flatMap((s) => ['-X', s]), '-X', `sasl.password=${password}`, '-L', '-m', '3']
}

test('SaslAuthenticate with a wrong password: SASL_AUTHENTICATION_FAILED with a message, then the connection closes', async (t) => {
  const h = await startHarness(t, {}, { users, anonymous: false })
  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())
  const failed = await loginPlain(c, 'bob', 'nope')
  assert.equal(failed.errorCode, 58)
  assert.equal(failed.errorMessage, 'Authentication failed: Invalid username or password')
  await c.closed

  // Before authenticating, with anonymous off, only ApiVersions and the SASL APIs are served.
  const early = new RawClient(h.port)
  t.after(() => early.socket.destroy())
  early.send(ApiKey.Metadata, 9, 1, { topics: null, allowAutoTopicCreation: false })
  await early.closed

  const ok = new RawClient(h.port)
  t.after(() => ok.socket.destroy())
  assert.equal((await loginPlain(ok, 'bob', 'bob-pw')).errorCode, 0)
  ok.send(ApiKey.Metadata, 9, 3, { topics: null, allowAutoTopicCreation: false })
  const metadata = await ok.response<MetadataResponse>(ApiKey.Metadata, 9)
  assert.equal(metadata.body.brokers[0]?.port, h.port)
})

test('AlterUserScramCredentials creates and deletes a credential kcat then logs in with; Describe lists it', async (t) => {
  const h = await startHarness(t, {}, { users, anonymous: false, defaultPermission: 'deny' })
  const admin = new RawClient(h.port)
  t.after(() => admin.socket.destroy())
  assert.equal((await loginPlain(admin, 'admin', 'admin-pw')).errorCode, 0)

  // What Kafka's admin client sends for kafka-configs --add-config 'SCRAM-SHA-512=[iterations=8192,password=...]'.
  const salt = randomBytes(24)
  const saltedPassword = await saltPassword('SCRAM-SHA-512', 'carol-pw', salt, 8192)
  let correlationId = 10
  const alter = async (body: object) => {
    admin.send(ApiKey.AlterUserScramCredentials, 0, ++correlationId, body)
    return (await admin.response<AlterUserScramCredentialsResponse>(ApiKey.AlterUserScramCredentials, 0)).body
  }
  const created = await alter({
    deletions: [],
    upsertions: [{ name: 'carol', mechanism: 2, iterations: 8192, salt, saltedPassword }],
  })
  assert.deepEqual(created.results, [{ user: 'carol', errorCode: 0, errorMessage: null }])
  await run('kcat', kcatScram512(h.bootstrap, 'carol', 'carol-pw'))
  await assert.rejects(run('kcat', kcatScram512(h.bootstrap, 'carol', 'wrong'), { timeoutMs: 20_000 }))

  admin.send(ApiKey.DescribeUserScramCredentials, 0, ++correlationId, { users: [{ name: 'carol' }, { name: 'dave' }] })
  const described = await admin.response<DescribeUserScramCredentialsResponse>(ApiKey.DescribeUserScramCredentials, 0)
  assert.equal(described.body.errorCode, 0)
  assert.deepEqual(
    described.body.results.map((r) => [r.user, r.errorCode, r.credentialInfos]),
    [
      ['carol', 0, [{ mechanism: 2, iterations: 8192 }]],
      ['dave', 91, []],
    ],
  )
  admin.send(ApiKey.DescribeUserScramCredentials, 0, ++correlationId, { users: null })
  const all = await admin.response<DescribeUserScramCredentialsResponse>(ApiKey.DescribeUserScramCredentials, 0)
  assert.deepEqual(all.body.results.map((r) => r.user).sort(), ['admin', 'bob', 'carol'])

  // Kafka's refusals: too few iterations, an unknown mechanism, deleting what is not there, twice in a request.
  const refused = await alter({
    deletions: [{ name: 'bob', mechanism: 2 }],
    upsertions: [
      { name: 'erin', mechanism: 1, iterations: 1000, salt, saltedPassword },
      { name: 'frank', mechanism: 0, iterations: 8192, salt, saltedPassword },
      { name: 'bob', mechanism: 2, iterations: 8192, salt, saltedPassword },
    ],
  })
  assert.deepEqual(
    refused.results.map((r) => [r.user, r.errorCode]),
    [
      ['bob', 92],
      ['erin', 93],
      ['frank', 33],
    ],
  )
  const missing = await alter({ deletions: [{ name: 'nobody', mechanism: 1 }], upsertions: [] })
  assert.deepEqual(
    missing.results.map((r) => [r.user, r.errorCode]),
    [['nobody', 91]],
  )

  // A user who is not an administrator and has no Alter on the cluster is refused.
  const bob = new RawClient(h.port)
  t.after(() => bob.socket.destroy())
  assert.equal((await loginPlain(bob, 'bob', 'bob-pw')).errorCode, 0)
  bob.send(ApiKey.AlterUserScramCredentials, 0, 5, { deletions: [{ name: 'carol', mechanism: 2 }], upsertions: [] })
  const denied = await bob.response<AlterUserScramCredentialsResponse>(ApiKey.AlterUserScramCredentials, 0)
  assert.deepEqual(
    denied.body.results.map((r) => [r.user, r.errorCode]),
    [['carol', 31]],
  )

  const deleted = await alter({ deletions: [{ name: 'carol', mechanism: 2 }], upsertions: [] })
  assert.deepEqual(deleted.results, [{ user: 'carol', errorCode: 0, errorMessage: null }])
  await assert.rejects(run('kcat', kcatScram512(h.bootstrap, 'carol', 'carol-pw'), { timeoutMs: 20_000 }))
})
