// Offsets committed inside a transaction (TxnOffsetCommit) as consumers see them: a read_committed
// librdkafka consumer (OffsetFetch v7 with require_stable) started while a transaction holds its group's
// offset waits for the transaction instead of starting from the offset before it.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { run, startHarness } from './harness.ts'
import { checkPendingOffsetWaits } from './pending-offset.ts'

test('confluent-kafka: a read_committed consumer sees a transaction-held group offset only after the commit', async (t) => {
  const h = await startHarness(t)
  await h.broker.createStream('stable', { partitions: 1 })
  for (let i = 0; i < 10; i++) await h.broker.produce('stable', [{ value: Buffer.from(`v${i}`) }], { partition: 0 })
  await checkPendingOffsetWaits(`127.0.0.1:${h.port}`, 'stable-g', 'stable-tx')
})

const zombieScript = `
import sys, json, time
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaException
b = '127.0.0.1:' + sys.argv[1]
def member(name):
    return Consumer({'bootstrap.servers': b, 'group.id': 'zombie-g', 'client.id': name, 'auto.offset.reset': 'earliest',
                     'enable.auto.commit': False, 'heartbeat.interval.ms': 300, 'session.timeout.ms': 6000})
def settle(consumers, wanted):
    deadline = time.time() + 40
    while time.time() < deadline:
        for c in consumers:
            c.poll(0.1)
        if sum(len(c.assignment()) for c in consumers) == 2 and all(len(c.assignment()) == wanted for c in consumers):
            return
    raise Exception('group did not settle')
a = member('a')
a.subscribe(['zombie'])
settle([a], 2)
old = a.consumer_group_metadata()
b2 = member('b')
b2.subscribe(['zombie'])
settle([a, b2], 1)
producer = Producer({'bootstrap.servers': b, 'transactional.id': 'zombie-tx'})
producer.init_transactions(30)
out = {}
def send(meta):
    producer.begin_transaction()
    try:
        producer.send_offsets_to_transaction([TopicPartition('zombie', 0, 3)], meta, 30)
        producer.commit_transaction(30)
        return 'ok'
    except KafkaException as e:
        producer.abort_transaction(30)
        return e.args[0].name()
out['stale'] = send(old)
out['current'] = send(a.consumer_group_metadata())
gone = b2.consumer_group_metadata()
b2.close()
out['gone'] = send(gone)
a.close()
print(json.dumps(out))
`

test('confluent-kafka: transactional offset commits of an older generation or a departed member are refused', async (t) => {
  const h = await startHarness(t)
  await h.broker.createStream('zombie', { partitions: 2 })
  const out = await run('/usr/bin/python3', ['-c', zombieScript, String(h.port)], { timeoutMs: 120_000 })
  const result = JSON.parse(out.stdout.trim().split('\n').at(-1)!)
  assert.deepEqual(result, { stale: 'ILLEGAL_GENERATION', current: 'ok', gone: 'UNKNOWN_MEMBER_ID' })
  assert.equal(h.broker.groups.fetchOffsets('zombie-g', [{ topic: 'zombie', partition: 0 }]).partitions[0]?.offset, 3)
})
