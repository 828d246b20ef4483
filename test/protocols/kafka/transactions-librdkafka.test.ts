// Kafka transactions with librdkafka: Debian python3-confluent-kafka (librdkafka 2.0.2) as transactional
// producer and read_committed / read_uncommitted consumer, and kcat with -X isolation.level=read_committed.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { run, startHarness } from './harness.ts'

const producerScript = `
import sys
from confluent_kafka import Producer
b = '127.0.0.1:' + sys.argv[1]
p = Producer({'bootstrap.servers': b, 'transactional.id': 'py-tx', 'linger.ms': 5})
p.init_transactions(30)
p.begin_transaction()
for i in range(10):
    p.produce('ck', key=b'k%d' % i, value=b'committed-%d' % i)
p.commit_transaction(30)
p.begin_transaction()
for i in range(5):
    p.produce('ck', key=b'k%d' % i, value=b'aborted-%d' % i)
p.flush(30)
p.abort_transaction(30)
p.begin_transaction()
p.produce('ck', key=b'last', value=b'committed-last')
p.commit_transaction(30)
print('done')
`

const consumerScript = `
import sys, json, time
from confluent_kafka import Consumer
b = '127.0.0.1:' + sys.argv[1]
c = Consumer({'bootstrap.servers': b, 'group.id': 'py-read-' + sys.argv[2], 'auto.offset.reset': 'earliest',
              'isolation.level': sys.argv[2], 'enable.auto.commit': False})
c.subscribe(['ck'])
values = []
idle_since = time.time()
while time.time() - idle_since < 4:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    values.append(m.value().decode())
    idle_since = time.time()
c.close()
print(json.dumps(sorted(values)))
`

const committed = [...Array.from({ length: 10 }, (_, i) => `committed-${i}`), 'committed-last'].sort()
const aborted = Array.from({ length: 5 }, (_, i) => `aborted-${i}`)

test('confluent-kafka transactional producer; read_committed, read_uncommitted and kcat readers', async (t) => {
  const h = await startHarness(t)
  await h.broker.createStream('ck', { partitions: 3 })
  const produced = await run('/usr/bin/python3', ['-c', producerScript, String(h.port)], { timeoutMs: 60_000 })
  assert.match(produced.stdout, /done/)

  const readCommitted = await run('/usr/bin/python3', ['-c', consumerScript, String(h.port), 'read_committed'], {
    timeoutMs: 60_000,
  })
  assert.deepEqual(JSON.parse(readCommitted.stdout.trim().split('\n').at(-1)!), committed)
  const readUncommitted = await run('/usr/bin/python3', ['-c', consumerScript, String(h.port), 'read_uncommitted'], {
    timeoutMs: 60_000,
  })
  assert.deepEqual(JSON.parse(readUncommitted.stdout.trim().split('\n').at(-1)!), [...committed, ...aborted].sort())

  const kcat = (isolation: string) =>
    run(
      'kcat',
      [
        '-C',
        '-b',
        h.bootstrap,
        '-t',
        'ck',
        '-o',
        'beginning',
        '-e',
        '-q',
        '-f',
        '%s\\n',
        '-X',
        `isolation.level=${isolation}`,
      ],
      { timeoutMs: 30_000 },
    ).then(({ stdout }) =>
      stdout
        .split('\n')
        .filter((l) => l !== '')
        .sort(),
    )
  assert.deepEqual(await kcat('read_committed'), committed)
  assert.deepEqual(await kcat('read_uncommitted'), [...committed, ...aborted].sort())
})
