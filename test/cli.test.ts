// `wharf start` as a child process: opens the data dir, reports ready, stops cleanly on SIGTERM/SIGINT,
// and refuses a data dir another broker holds.
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { spawnWharf } from './fixtures/wharf-process.ts'

test('wharf start opens the data dir, logs ready and stops cleanly on SIGTERM', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cli-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const data = join(dir, 'data')
  const broker = spawnWharf(['--data-dir', data])
  t.after(() => broker.proc.kill('SIGKILL'))
  await broker.ready
  assert.ok(existsSync(join(data, 'wharf.lock')), 'data dir locked while running')
  assert.match(broker.output(), new RegExp(`"dataDir":"${data}"`))

  const second = spawnWharf([], { WHARF_DATA_DIR: data })
  assert.equal(await second.exit, 1, 'a second broker on the same data dir refuses to start')
  assert.match(second.output(), /in use by process/)

  broker.proc.kill('SIGTERM')
  assert.equal(await broker.exit, 0)
  assert.match(broker.output(), /wharf stopped/)
  assert.ok(!existsSync(join(data, 'wharf.lock')), 'lock released')
})

test('bad flags exit non-zero with a clear message', async () => {
  const bad = spawnWharf(['--kafka-port', 'notaport'])
  assert.notEqual(await bad.exit, 0)
  assert.match(bad.output(), /port number/)
})
