// The AMQP per-connection bounds are server settings like every other limit: `wharf start` flags (and
// WHARF_* and the config file) reach the listener. Seen from amqplib.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import amqp from 'amqplib'
import { loadConfig } from '../../src/server/config.ts'
import { isWharfError } from '../../src/util/errors.ts'
import { startSpawned } from '../fixtures/spawned-wharf.ts'

test('--amqp-pending-body-bytes bounds what one connection holds unpublished: over it, 506 closes the connection', {
  timeout: 60_000,
}, async (t) => {
  const { ports } = await startSpawned(t, ['amqp'], { args: ['--amqp-pending-body-bytes', '65536'] })
  const conn = await amqp.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`)
  const closed = new Promise<Error>((resolve) => conn.on('error', resolve))
  t.after(() => conn.close().catch(() => {}))
  const ch = await conn.createConfirmChannel()
  ch.on('error', () => {})
  await ch.assertQueue('bounded')
  ch.sendToQueue('bounded', Buffer.alloc(32 * 1024, 1))
  await ch.waitForConfirms()
  assert.equal((await ch.checkQueue('bounded')).messageCount, 1, 'a body under the bound is published')

  ch.sendToQueue('bounded', Buffer.alloc(100 * 1024, 2))
  const error = (await closed) as Error & { code?: number }
  assert.equal(error.code, 506)
  assert.match(
    error.message,
    /RESOURCE_ERROR - message bodies held for this connection before publishing would take 102400 bytes, over the limit of 65536/,
  )

  const again = await amqp.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`)
  t.after(() => again.close().catch(() => {}))
  const check = await again.createChannel()
  assert.equal((await check.checkQueue('bounded')).messageCount, 1, 'the refused body was not published')
})

test('AMQP per-connection bounds: config file < WHARF_AMQP_* < flags, positive integers only', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-config-amqp-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'wharf.json')
  writeFileSync(file, JSON.stringify({ amqpDeliveryBufferBytes: 1000, amqpPendingBodyBytes: 2000 }))
  const config = loadConfig({
    configFile: file,
    env: { WHARF_AMQP_PENDING_BODY_BYTES: '3000', WHARF_AMQP_PUBLISH_INFLIGHT_BYTES: '4000' },
    flags: { amqpPublishInflightBytes: '5000' },
  })
  assert.deepEqual(
    [config.amqpDeliveryBufferBytes, config.amqpPendingBodyBytes, config.amqpPublishInflightBytes],
    [1000, 3000, 5000],
  )
  const defaults = loadConfig({ env: {} })
  assert.deepEqual(
    [defaults.amqpDeliveryBufferBytes, defaults.amqpPendingBodyBytes, defaults.amqpPublishInflightBytes],
    [1024 * 1024, 64 * 1024 * 1024, 16 * 1024 * 1024],
  )
  for (const value of ['0', '-5', 'much'])
    assert.throws(
      () => loadConfig({ env: { WHARF_AMQP_DELIVERY_BUFFER_BYTES: value } }),
      (error: unknown) => isWharfError(error) && error.code === 'INVALID_CONFIG',
    )
})
