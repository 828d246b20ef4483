// The storage URL: libpq's single- and multi-host forms, IPv6 literals, escapes and parameters; bad ones are
// INVALID_CONFIG, and the redacted form never shows the password.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isPostgresUrl, parseStorageUrl, redactedUrl } from '../../../src/storage/postgres/connection.ts'
import { isWharfError } from '../../../src/util/errors.ts'
import { spawnWharf } from '../../fixtures/wharf-process.ts'

test('storage URLs: one host, several hosts, IPv6, escapes, parameters, defaults', () => {
  const one = parseStorageUrl('postgres://wharf:s%40cret@db.example:5433/broker')
  assert.deepEqual(one.endpoints, [{ host: 'db.example', port: 5433 }])
  assert.equal(one.user, 'wharf')
  assert.equal(one.password, 's@cret')
  assert.equal(one.database, 'broker')
  assert.equal(redactedUrl(one), 'postgres://wharf@db.example:5433/broker')

  const many = parseStorageUrl(
    'postgresql://u:p@h1:5432,h2:5433,[::1]:5434,h4/db?target_session_attrs=read-write&connect_timeout=2',
  )
  assert.deepEqual(many.endpoints, [
    { host: 'h1', port: 5432 },
    { host: 'h2', port: 5433 },
    { host: '::1', port: 5434 },
    { host: 'h4', port: 5432 },
  ])
  assert.equal(many.params.get('target_session_attrs'), 'read-write')
  assert.equal(many.params.get('connect_timeout'), '2')
  assert.equal(redactedUrl(many), 'postgres://u@h1:5432,h2:5433,[::1]:5434,h4:5432/db')

  const bare = parseStorageUrl('postgres://')
  assert.deepEqual(bare.endpoints, [{ host: 'localhost', port: 5432 }])
  assert.equal(bare.database, 'postgres')
  assert.equal(
    parseStorageUrl('postgres://alice@h').database,
    'alice',
    'the database defaults to the user, as in libpq',
  )

  assert.ok(isPostgresUrl('postgres://h/db') && isPostgresUrl('postgresql://h/db'))
  assert.ok(!isPostgresUrl('local') && !isPostgresUrl('mysql://h/db'))
  for (const bad of ['mysql://h/db', 'postgres://h:99999/db', 'postgres://h:port/db', 'postgres://[::1/db']) {
    assert.throws(
      () => parseStorageUrl(bad),
      (e) => isWharfError(e, 'INVALID_CONFIG'),
      bad,
    )
  }
})

test('wharf start --storage with neither local nor a postgres URL exits with a clear error', async () => {
  const wharf = spawnWharf(['--storage', 'mysql://u:hidden@h/db', '--data-dir', '/nonexistent/wharf-never'])
  const code = await wharf.exit
  assert.notEqual(code, 0)
  assert.match(wharf.output(), /storage must be local or a postgres:\/\/ URL/)
  assert.doesNotMatch(wharf.output(), /hidden/, 'the password is not printed')
})
