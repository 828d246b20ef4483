// The router and SNS subscriptions over the real on-disk catalog (MetadataStore), across a reopen.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { Router } from '../../../src/broker/routing/router.ts'
import { TopicSubscriptions } from '../../../src/broker/topics/topics.ts'
import { openStorage } from '../../../src/storage/local/index.ts'

test('durable router state survives a storage reopen', async (t) => {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'wharf-router-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const options = { retentionCheckMs: 0, compactionCheckMs: 0 }
  const first = await openStorage(dir, options)
  const router = await Router.open(first.metadata, { queueExists: () => true })
  await router.declareExchange({ name: 'x', type: 'headers', durable: true, arguments: { 'x-n': 2n ** 63n - 1n } })
  await router.bind({
    source: 'x',
    destination: { kind: 'queue', name: 'q' },
    key: '',
    arguments: { id: Buffer.from([1, 2]) },
  })
  await router.bind({
    source: 'amq.topic',
    destination: { kind: 'stream', name: 's' },
    key: 'a/+',
    arguments: {},
    syntax: 'mqtt',
  })
  await router.declareExchange({ name: 'tmp', type: 'fanout' })
  const subs = await TopicSubscriptions.open(first.metadata)
  await subs.createTopic('t')
  await subs.subscribe({
    topic: 't',
    destination: { kind: 'queue', name: 'q' },
    filterPolicy: { k: ['v'] },
    id: 'sub1',
  })
  await first.close()

  const second = await openStorage(dir, options)
  t.after(() => second.close())
  const reopened = await Router.open(second.metadata, { queueExists: () => true })
  assert.equal(reopened.getExchange('tmp'), undefined)
  assert.deepEqual(reopened.getExchange('x')?.arguments, { 'x-n': 2n ** 63n - 1n })
  assert.deepEqual(reopened.route('x', '', { id: Buffer.from([1, 2]) }).destinations, [{ kind: 'queue', name: 'q' }])
  assert.equal(reopened.route('x', '', { id: Buffer.from([1, 3]) }).unroutable, true)
  assert.deepEqual(reopened.route('amq.topic', 'a.b').destinations, [{ kind: 'stream', name: 's' }])
  const reopenedSubs = await TopicSubscriptions.open(second.metadata)
  assert.deepEqual(
    reopenedSubs.match('t', { k: { DataType: 'String', StringValue: 'v' } }).map((s) => s.id),
    ['sub1'],
  )
  assert.deepEqual(reopenedSubs.match('t', { k: { DataType: 'String', StringValue: 'w' } }), [])
})
