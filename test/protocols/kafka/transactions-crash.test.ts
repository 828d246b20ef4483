// Broker SIGKILL during transactions (librdkafka transactional producer via python3-confluent-kafka): after a
// restart every transaction is in all its partitions or in none, every commit the producer saw acknowledged
// is there, and read_committed readers are not held by transactions the dead broker left open.
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { test } from 'node:test'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'
import { run } from './harness.ts'

const RECORDS_PER_TXN = 6

const producerScript = `
import sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
b = '127.0.0.1:' + sys.argv[1]
tag = sys.argv[2]
admin = AdminClient({'bootstrap.servers': b})
try:
    admin.create_topics([NewTopic('crash', 3, 1)])['crash'].result(30)
except Exception:
    pass  # made by an earlier round
p = Producer({'bootstrap.servers': b, 'transactional.id': 'crash-tx', 'linger.ms': 2})
p.init_transactions(30)
n = 0
while True:
    p.begin_transaction()
    for i in range(${RECORDS_PER_TXN}):
        p.produce('crash', key=b'%d-%d' % (n, i), value=('%s.%d-%d' % (tag, n, i)).encode())
    p.commit_transaction(30)
    print('%s.%d' % (tag, n), flush=True)
    n += 1
`

const readerScript = `
import sys, json, time
from confluent_kafka import Consumer
b = '127.0.0.1:' + sys.argv[1]
c = Consumer({'bootstrap.servers': b, 'group.id': 'crash-read-' + sys.argv[2], 'auto.offset.reset': 'earliest',
              'isolation.level': sys.argv[2], 'enable.auto.commit': False})
c.subscribe(['crash'])
values = []
idle_since = time.time()
while time.time() - idle_since < 5:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    values.append(m.value().decode())
    idle_since = time.time()
c.close()
print(json.dumps(values))
`

async function read(port: number, isolation: string): Promise<string[]> {
  const { stdout } = await run('/usr/bin/python3', ['-c', readerScript, String(port), isolation], {
    timeoutMs: 90_000,
  })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[]
}

test('broker SIGKILL during transactions: after restart each transaction is whole or absent', async (t) => {
  const rounds = process.env.WHARF_LONG ? 5 : 1
  const first = await startSpawned(t, ['kafka'])
  let wharf = first
  const acknowledged = new Set<string>()
  for (let round = 0; round < rounds; round++) {
    const producer = spawn('/usr/bin/python3', ['-c', producerScript, String(wharf.ports.kafka), `r${round}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    t.after(() => producer.kill('SIGKILL'))
    let output = ''
    let errors = ''
    producer.stderr.on('data', (d) => {
      errors += d
    })
    // Kill the broker after a number of commits that varies by round, so the kill lands at different moments.
    const target = 15 + Math.floor(Math.random() * 25)
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`producer stalled: ${output} ${errors}`)), 60_000)
      producer.stdout.on('data', (d) => {
        output += d
        const lines = output.split('\n').filter((l) => l !== '')
        if (lines.length >= target) {
          clearTimeout(timer)
          resolve()
        }
      })
      producer.on('exit', () => reject(new Error(`producer exited: ${errors}`)))
    }).finally(() => {
      wharf.wharf.proc.kill('SIGKILL')
    })
    await wharf.wharf.exit
    producer.kill('SIGKILL')
    for (const line of output.split('\n')) if (line !== '') acknowledged.add(line)
    wharf = await startSpawned(t, ['kafka'], { dataDir: first.dataDir })
  }

  const committed = await read(wharf.ports.kafka, 'read_committed')
  const perTxn = new Map<string, number>()
  for (const v of committed) {
    const txn = v.split('-')[0]!
    perTxn.set(txn, (perTxn.get(txn) ?? 0) + 1)
  }
  for (const [txn, count] of perTxn) assert.equal(count, RECORDS_PER_TXN, `transaction ${txn} is partial: ${count}`)
  for (const n of acknowledged) assert.equal(perTxn.get(n), RECORDS_PER_TXN, `acknowledged ${n} is missing`)
  const uncommitted = await read(wharf.ports.kafka, 'read_uncommitted')
  assert.ok(uncommitted.length >= committed.length)
  assert.ok(committed.length >= 15 * RECORDS_PER_TXN)
})
