// Upgrade safety: a data directory written by the release before the format file existed (the committed
// fixture test/fixtures/data-format-1, made by that code: streams, a queue, an exchange binding, a committed
// offset, users and an ACL rule) opens with everything in it, and gets its format recorded; a directory of a
// newer format is refused with a message that says what to do, never misread.
import assert from 'node:assert/strict'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import { createBroker } from '../../src/index.ts'
import { DATA_FORMAT } from '../../src/storage/local/format.ts'
import { isWharfError } from '../../src/util/errors.ts'
import { spawnWharf } from '../fixtures/wharf-process.ts'

const fixture = new URL('../fixtures/data-format-1', import.meta.url).pathname

function copyOfFixture(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-format-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(fixture, dir, { recursive: true })
  return dir
}

test('a data directory of the previous release opens with its streams, queue, bindings, offsets and users', async (t) => {
  const dir = copyOfFixture(t)
  const broker = await createBroker({ dataDir: dir })
  t.after(() => broker.close())
  const events = broker.stream('events')
  assert.equal(events.partitions.length, 2)
  const first = (await broker.readMessages('events', 0, 0)).messages
  assert.deepEqual(
    first.map((m) => [m.key?.toString(), m.value?.toString()]),
    [
      ['k1', 'e1'],
      ['k2', 'e2'],
    ],
  )
  assert.deepEqual(
    (await broker.readMessages('events', 1, 0)).messages.map((m) => m.value?.toString()),
    ['e3'],
  )
  assert.equal(broker.committedOffset('analytics', 'events', 0)?.offset, 1)
  assert.equal(broker.queueStats('orders').ready, 2)
  await broker.publish('shop', 'order.shipped', { value: Buffer.from('o3') })
  const got = await broker.get('orders', { max: 10, owner: 'test' })
  assert.deepEqual(
    got.map((d) => d.message.value?.toString()),
    ['o1', 'o2', 'o3'],
  )
  assert.ok(await broker.security.users.verifyPassword('alice', 'alice-pw'))
  assert.deepEqual(
    broker.security.acls.list().map((r) => [r.principal, r.operation, r.resourceName]),
    [['User:bob', 'Write', 'payments']],
  )
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'wharf-format.json'), 'utf8')), { format: DATA_FORMAT })
})

test('a newer format is refused, by the embedded API and by wharf start, and nothing is written', async (t) => {
  const dir = copyOfFixture(t)
  writeFileSync(join(dir, 'wharf-format.json'), JSON.stringify({ format: DATA_FORMAT + 1 }))
  const before = readFileSync(join(dir, 'meta', 'log-0.bin'))
  await assert.rejects(
    createBroker({ dataDir: dir }),
    (error) =>
      isWharfError(error) && error.code === 'UNSUPPORTED_FORMAT' && /written by a newer Wharf/.test(error.message),
  )
  const wharf = spawnWharf(['--data-dir', dir])
  t.after(() => wharf.proc.kill('SIGKILL'))
  assert.notEqual(await wharf.exit, 0)
  assert.match(wharf.output(), new RegExp(`has format ${DATA_FORMAT + 1}, written by a newer Wharf`))
  assert.match(wharf.output(), /--data-dir/)
  assert.deepEqual(readFileSync(join(dir, 'meta', 'log-0.bin')), before, 'the catalog is untouched')

  writeFileSync(join(dir, 'wharf-format.json'), '{ not json')
  await assert.rejects(createBroker({ dataDir: dir }), (error) => isWharfError(error) && error.code === 'STORE_CORRUPT')
})
