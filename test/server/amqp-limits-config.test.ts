// The AMQP per-connection bounds are server settings like every other limit: `wharf start` flags (and
// WHARF_* / the config file, test/config.test.ts) reach the listener. Seen from amqplib.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import amqp from 'amqplib'
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
