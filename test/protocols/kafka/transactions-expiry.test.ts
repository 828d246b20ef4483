// Expiry of idle transactional ids (Kafka transactional.id.expiration.ms) with a librdkafka producer
// (Debian python3-confluent-kafka): after the expiry its next InitProducerId gets a new producer id at epoch 0.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { run, startHarness } from './harness.ts'

const commitOneScript = `
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': '127.0.0.1:' + sys.argv[1], 'transactional.id': 'expiring-tx'})
p.init_transactions(30)
p.begin_transaction()
p.produce('expiring', value=sys.argv[2].encode())
p.commit_transaction(30)
print('done')
`

test('confluent-kafka: a transactional id idle past transactional.id.expiration.ms starts afresh', async (t) => {
  const h = await startHarness(
    t,
    {},
    { producerTransactions: { transactionalIdExpirationMs: 1000, checkEveryMs: 100 } },
  )
  await h.broker.createStream('expiring', { partitions: 1 })
  const txns = h.broker.producerTransactions
  await run('/usr/bin/python3', ['-c', commitOneScript, String(h.port), 'first'], { timeoutMs: 60_000 })
  assert.equal(txns.get('expiring-tx')?.state, 'CompleteCommit')
  const firstId = txns.get('expiring-tx')?.producerId
  const deadline = Date.now() + 30_000
  while (txns.get('expiring-tx') !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  assert.equal(txns.get('expiring-tx'), undefined, 'the idle id is forgotten')
  await run('/usr/bin/python3', ['-c', commitOneScript, String(h.port), 'second'], { timeoutMs: 60_000 })
  const second = txns.get('expiring-tx')
  assert.equal(second?.state, 'CompleteCommit')
  assert.notEqual(second?.producerId, firstId, 'a new producer id, not an epoch bump of the old one')
  assert.equal(second?.producerEpoch, 0)
  const { messages } = await h.broker.readMessages('expiring', 0, 0)
  assert.deepEqual(
    messages.map((m) => m.value?.toString()),
    ['first', 'second'],
  )
})
