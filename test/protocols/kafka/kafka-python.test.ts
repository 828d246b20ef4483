// kafka-python 2.0.2 (Debian python3-kafka, /usr/bin/python3), unmodified, against Wharf's Kafka listener.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { run, startHarness } from './harness.ts'

const script = `
import sys, json
from kafka import KafkaProducer, KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic
b = '127.0.0.1:' + sys.argv[1]
admin = KafkaAdminClient(bootstrap_servers=b, client_id='py-admin')
admin.create_topics([NewTopic('py-topic', num_partitions=2, replication_factor=1)])
topics = admin.list_topics()
producer = KafkaProducer(bootstrap_servers=b, acks=1)
futures = [producer.send('py-topic', key=b'k%d' % i, value=b'v%d' % i) for i in range(20)]
producer.flush()
offsets = [f.get(timeout=10).offset for f in futures]
consumer = KafkaConsumer('py-topic', bootstrap_servers=b, group_id='py-group', auto_offset_reset='earliest',
                         enable_auto_commit=False, consumer_timeout_ms=6000)
values = sorted(m.value.decode() for m in consumer)
consumer.commit()
consumer.close()
admin.close()
print(json.dumps({'topics': sorted(topics), 'offsets': offsets, 'values': values}))
`

test('kafka-python: admin create_topics, KafkaProducer acks=1, KafkaConsumer with a group and commit', async (t) => {
  const h = await startHarness(t)
  const { stdout } = await run('/usr/bin/python3', ['-c', script, String(h.port)], { timeoutMs: 50_000 })
  const result = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    topics: string[]
    offsets: number[]
    values: string[]
  }
  assert.ok(result.topics.includes('py-topic'))
  assert.equal(h.broker.stream('py-topic').partitions.length, 2)
  assert.equal(result.offsets.length, 20)
  assert.deepEqual(result.values, Array.from({ length: 20 }, (_, i) => `v${i}`).sort())
  // The group's commit landed in the broker's offset store: both partitions committed to their end.
  const committed = [0, 1].map((p) => h.broker.committedOffset('py-group', 'py-topic', p)?.offset ?? 0)
  assert.equal(committed[0]! + committed[1]!, 20)
})
