// Offsets committed inside a transaction (TxnOffsetCommit) as consumers see them: a read_committed
// librdkafka consumer (OffsetFetch v7 with require_stable) started while a transaction holds its group's
// offset waits for the transaction instead of starting from the offset before it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { run, startHarness } from './harness.ts'

const pendingScript = `
import sys, json, time
from confluent_kafka import Consumer, Producer, TopicPartition
b = '127.0.0.1:' + sys.argv[1]
consumer = Consumer({'bootstrap.servers': b, 'group.id': 'stable-g', 'isolation.level': 'read_committed',
                     'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
producer = Producer({'bootstrap.servers': b, 'transactional.id': 'stable-tx'})
producer.init_transactions(30)
producer.begin_transaction()
producer.send_offsets_to_transaction([TopicPartition('stable', 0, 7)], consumer.consumer_group_metadata(), 30)
# The offset is pending: the consumer's committed-offset lookup is answered "unstable" and retried.
consumer.assign([TopicPartition('stable', 0)])
before = []
deadline = time.time() + 4
while time.time() < deadline:
    m = consumer.poll(0.2)
    if m is not None and not m.error():
        before.append(m.offset())
producer.commit_transaction(30)
after = None
deadline = time.time() + 30
while after is None and time.time() < deadline:
    m = consumer.poll(0.2)
    if m is not None and not m.error():
        after = m.offset()
consumer.close()
print(json.dumps({'before': before, 'after': after}))
`

test('confluent-kafka: a read_committed consumer sees a transaction-held group offset only after the commit', async (t) => {
  const h = await startHarness(t)
  await h.broker.createStream('stable', { partitions: 1 })
  for (let i = 0; i < 10; i++) await h.broker.produce('stable', [{ value: Buffer.from(`v${i}`) }], { partition: 0 })
  const out = await run('/usr/bin/python3', ['-c', pendingScript, String(h.port)], { timeoutMs: 90_000 })
  const result = JSON.parse(out.stdout.trim().split('\n').at(-1)!)
  assert.deepEqual(result.before, [], 'nothing is consumed while the offset is pending')
  assert.equal(result.after, 7, 'the consumer starts at the offset the transaction committed')
})
