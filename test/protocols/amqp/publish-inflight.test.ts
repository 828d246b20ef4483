// Publish bytes in flight per connection: while the broker has not finished the publishes a connection
// started (unconfirmed), the body bytes they hold are bounded; past the bound the connection is not read,
// so a fast publisher of large messages waits in its own socket instead of in broker memory. The broker's
// publish is held back here by wrapping it (the listener's back-pressure is what is tested), then released:
// every message arrives.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { connect, sleep, startWharf } from './helpers.ts'

const LIMIT = 1024 * 1024
const BODY = 256 * 1024
const MESSAGES = 60

test('publishes awaiting the broker hold at most publishInflightBytes (plus one read) of bodies', {
  timeout: 30_000,
}, async (t) => {
  const { url, broker } = await startWharf(t, { publishInflightBytes: LIMIT })
  await broker.createQueue('inflight', {})
  const publish = broker.publish.bind(broker)
  let started = 0
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  broker.publish = (...args: Parameters<typeof publish>) => {
    started++
    return held.then(() => publish(...args))
  }
  t.after(() => release())

  const conn = await connect(t, url)
  const ch = await conn.createChannel()
  for (let i = 0; i < MESSAGES; i++) ch.sendToQueue('inflight', Buffer.alloc(BODY, i))
  // Give the broker time to read all it will.
  let previous = -1
  for (let i = 0; i < 50; i++) {
    await sleep(50)
    if (started === previous && i > 10) break
    previous = started
  }
  t.diagnostic(`publishes started while the broker held them: ${started} of ${MESSAGES}`)
  // The bound plus what one socket read can still complete.
  assert.ok(started * BODY <= LIMIT + 2 * BODY, `${started} publishes of ${BODY} bytes in flight`)

  release()
  for (let i = 0; i < 200 && broker.queue('inflight').depth() < MESSAGES; i++) await sleep(25)
  assert.equal(broker.queue('inflight').depth(), MESSAGES)
})
