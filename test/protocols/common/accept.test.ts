// The shared accept loop: a listener holds at most connectionsMax connections (beyond, the socket is dropped
// at accept and a real client sees its connect fail), and a closed connection frees its place.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import amqp from 'amqplib'
import { startAmqpListener } from '../../../src/protocols/amqp/index.ts'
import { loadConfig } from '../../../src/server/config.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { createTestBroker } from '../../fixtures/test-storage.ts'

test('connectionsMax: the connection beyond the bound is dropped at accept; a closed one frees its place', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-accept-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const broker = await createTestBroker({ dataDir: dir, durability: 'never' })
  const listener = await startAmqpListener({
    broker,
    host: '127.0.0.1',
    port: 0,
    logger: silentLogger,
    connectionsMax: 1,
  })
  t.after(async () => {
    await listener.close()
    await broker.close()
  })
  const url = `amqp://guest:guest@127.0.0.1:${listener.port}`
  const first = await amqp.connect(url)
  assert.equal(listener.connections.size, 1)
  await assert.rejects(amqp.connect(url), 'a second connection is refused')
  assert.equal(listener.connections.list().length, 1)

  await first.close()
  const deadline = Date.now() + 5000
  while (listener.connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  const again = await amqp.connect(url)
  assert.equal(listener.connections.list().length, 1)
  await again.close()
})

test('connectionsMax is a positive integer in the config (flag, environment, file)', () => {
  assert.equal(loadConfig({ env: {} }).connectionsMax, 100_000)
  assert.equal(loadConfig({ env: { WHARF_CONNECTIONS_MAX: '50' } }).connectionsMax, 50)
  assert.throws(
    () => loadConfig({ env: { WHARF_CONNECTIONS_MAX: '0' } }),
    /WHARF_CONNECTIONS_MAX must be a positive integer/,
  )
})
