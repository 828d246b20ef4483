import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { deriveScramCredential, scramCredentialMatches } from '../../../src/broker/security/scram.ts'
import { Security } from '../../../src/broker/security/security.ts'
import { createBroker } from '../../../src/index.ts'
import { MemoryMetadata } from '../../fixtures/memory-metadata.ts'
import { tempDir } from '../helpers.ts'

test('a password is stored only as a scrypt hash and SCRAM credentials, and verifies', async () => {
  const metadata = new MemoryMetadata()
  const security = new Security(metadata)
  await security.users.put('alice', { password: 'alice-pw', tags: ['administrator'] })
  const stored = JSON.stringify(metadata.list('user'))
  assert.ok(!stored.includes('alice-pw'), 'the plain password is not stored')
  const record = security.users.get('alice')!
  assert.match(record.passwordHash!, /^scrypt\$16384\$8\$1\$/)
  assert.deepEqual(Object.keys(record.scram).sort(), ['SCRAM-SHA-256', 'SCRAM-SHA-512'])
  assert.equal((await security.users.verifyPassword('alice', 'alice-pw'))?.name, 'alice')
  assert.equal(await security.users.verifyPassword('alice', 'wrong'), undefined)
  assert.equal(await security.users.verifyPassword('nobody', 'alice-pw'), undefined)
  const view = security.users.view('alice')!
  assert.deepEqual(view.tags, ['administrator'])
  assert.equal(JSON.stringify(view).includes('scrypt'), false, 'views carry no hash')
})

test('a user with only SCRAM credentials (Kafka AlterUserScramCredentials) verifies a plain password', async () => {
  const security = new Security(new MemoryMetadata())
  await security.users.setScramCredential('carol', await deriveScramCredential('SCRAM-SHA-512', 'carol-pw', 4096))
  assert.equal((await security.users.verifyPassword('carol', 'carol-pw'))?.name, 'carol')
  assert.equal(await security.users.verifyPassword('carol', 'nope'), undefined)
  assert.equal(await security.users.deleteScramCredential('carol', 'SCRAM-SHA-512'), true)
  assert.equal(await security.users.deleteScramCredential('carol', 'SCRAM-SHA-512'), false)
  assert.equal(await security.users.verifyPassword('carol', 'carol-pw'), undefined)
})

test('RFC 7677 test vector: the SCRAM-SHA-256 credential of "pencil"', async () => {
  const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64')
  const credential = await deriveScramCredential('SCRAM-SHA-256', 'pencil', 4096, salt)
  // ServerSignature in RFC 7677 is HMAC(ServerKey, AuthMessage); the ServerKey below is derived from the
  // RFC's SaltedPassword, so this pins the PBKDF2 + HMAC chain.
  assert.equal(credential.serverKey, 'wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=')
  assert.equal(await scramCredentialMatches(credential, 'pencil'), true)
  assert.equal(await scramCredentialMatches(credential, 'pencils'), false)
})

test('access keys: unique across users, found by id, validated', async () => {
  const security = new Security(new MemoryMetadata())
  await security.users.put('alice', { accessKeys: [{ id: 'AKIDALICE', secret: 'alice-aws-secret' }] })
  assert.equal(security.users.accessKey('AKIDALICE')?.user.name, 'alice')
  assert.equal(security.users.accessKey('AKIDALICE')?.secret, 'alice-aws-secret')
  assert.equal(security.users.accessKey('NOPE'), undefined)
  await assert.rejects(
    security.users.put('bob', { accessKeys: [{ id: 'AKIDALICE', secret: 'another-secret' }] }),
    /belongs to another user/,
  )
  await assert.rejects(security.users.put('bob', { accessKeys: [{ id: 'x', secret: 'short' }] }), /access key id/)
  await assert.rejects(security.users.put('bad name', {}), /invalid user name/)
  await assert.rejects(security.users.put('ANONYMOUS', {}), /invalid user name/)
  await assert.rejects(security.users.put('dave', { tags: ['root'] }), /unknown tag 'root'/)
})

test('login: loopback-only users, the anonymous policy, and failures slowed per source address', async () => {
  const security = new Security(new MemoryMetadata())
  await security.bootstrap([], [])
  assert.equal((await security.login('guest', 'guest', '127.0.0.1'))?.name, 'guest')
  assert.equal((await security.login('guest', 'guest', '::ffff:127.0.0.1'))?.name, 'guest')
  const started = Date.now()
  assert.equal(await security.login('guest', 'guest', '10.1.2.3'), undefined, 'guest only from loopback')
  assert.equal(await security.login('guest', 'wrong', '10.1.2.3'), undefined)
  const elapsed = Date.now() - started
  // Two failures from one address wait 100 + 200 ms at least: guessing is slowed.
  assert.ok(elapsed >= 290, `failures were delayed (${elapsed} ms)`)
  assert.ok(security.anonymous(), 'anonymous by default')
  security.configure({ anonymous: false })
  assert.equal(security.anonymous(), undefined)
})

test('bootstrap: config users are created and updated, guest only on a first start with no users, and stays deleted', async (t) => {
  const dir = tempDir(t)
  let broker = await createBroker({ dataDir: dir })
  assert.deepEqual(
    broker.security.users.list().map((u) => [u.name, u.loopbackOnly]),
    [['guest', true]],
  )
  await broker.security.users.delete('guest')
  await broker.close()
  broker = await createBroker({ dataDir: dir })
  assert.deepEqual(broker.security.users.list(), [], 'a deleted guest is not re-created')
  await broker.close()

  const other = tempDir(t)
  broker = await createBroker({
    dataDir: other,
    security: {
      users: [
        {
          name: 'alice',
          password: 'alice-pw',
          tags: ['administrator'],
          accessKeys: [{ id: 'AKIDALICE', secret: 'alice-aws-secret' }],
        },
      ],
      acls: [
        {
          principal: 'User:bob',
          operation: 'Write',
          permission: 'Deny',
          resourceType: 'Topic',
          resourceName: 'payments',
        },
      ],
    },
  })
  assert.deepEqual(
    broker.security.users.list().map((u) => u.name),
    ['alice'],
    'no guest beside configured users',
  )
  assert.equal(broker.security.acls.size, 1)
  await broker.close()
  broker = await createBroker({
    dataDir: other,
    security: { users: [{ name: 'alice', password: 'new-pw' }] },
  })
  t.after(() => broker.close())
  assert.ok(await broker.security.users.verifyPassword('alice', 'new-pw'), 'a changed config password applies')
  assert.deepEqual(broker.security.users.view('alice')?.tags, [], 'tags as the config lists them')
  assert.equal(broker.security.acls.size, 1, 'rules survive a restart')
  const files = readdirSync(other, { recursive: true }).map(String)
  const text = files
    .filter((f) => !f.includes('.'))
    .map((f) => {
      try {
        return readFileSync(join(other, f), 'latin1')
      } catch {
        return ''
      }
    })
    .join('')
  assert.ok(!text.includes('alice-pw') && !text.includes('new-pw'), 'no plain password on disk')
})
