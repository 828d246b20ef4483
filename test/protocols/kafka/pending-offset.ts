// A read_committed librdkafka consumer (OffsetFetch with require_stable) started while a transaction holds its
// group's offset of partition 0 of topic `stable` (which holds 10 records) at 7: it must wait for the
// transaction instead of starting from the offset before it. Shared by the one-broker and the cluster test.
import assert from 'node:assert/strict'
import { run } from './harness.ts'

const script = `
import sys, json, time
from confluent_kafka import Consumer, Producer, TopicPartition
b, group, txn = sys.argv[1], sys.argv[2], sys.argv[3]
consumer = Consumer({'bootstrap.servers': b, 'group.id': group, 'isolation.level': 'read_committed',
                     'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
producer = Producer({'bootstrap.servers': b, 'transactional.id': txn})
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

/** Runs the consumer and the transaction against `bootstrap` and checks the consumer waited, then started at 7. */
export async function checkPendingOffsetWaits(bootstrap: string, groupId: string, transactionalId: string) {
  const out = await run('/usr/bin/python3', ['-c', script, bootstrap, groupId, transactionalId], { timeoutMs: 120_000 })
  const result = JSON.parse(out.stdout.trim().split('\n').at(-1)!)
  assert.deepEqual(result.before, [], 'nothing is consumed while the offset is pending')
  assert.equal(result.after, 7, 'the consumer starts at the offset the transaction committed')
}
