// Kafka transactions benchmark with librdkafka (python3-confluent-kafka 1.7 / librdkafka 2.0.2, run by
// /usr/bin/python3): 1 KiB records, acks=all, transactions of 1000 records vs a plain (idempotent) producer,
// on a topic of one partition and on one of PARTS partitions (records spread round robin, so each transaction
// spans every partition), then a replay of the transactional topic read_committed vs read_uncommitted. Runs
// alternate (plain, txn, plain, txn, ...) in one process so both sides see the same machine; medians are printed.
// Each producer first writes one warm-up record per partition, outside the timed part.
// Run: node --import tsx bench/kafka-transactions.ts [--quick] [--reps N] [--partitions N] [--durability always|never]
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBroker } from '../src/index.ts'
import { startKafkaListener } from '../src/protocols/kafka/index.ts'
import { silentLogger } from '../src/util/logger.ts'
import { durability, quick } from './args.ts'

const N = quick ? 10_000 : 50_000
const TXN = 1000
const repsArg = process.argv.indexOf('--reps')
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 3
const partsArg = process.argv.indexOf('--partitions')
const PARTS = partsArg > 0 ? Number(process.argv[partsArg + 1]) : 4

const produceScript = `
import sys, time
from confluent_kafka import Producer
b, topic, n, txn, parts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
conf = {'bootstrap.servers': b, 'acks': 'all', 'linger.ms': 5, 'enable.idempotence': True}
if txn > 0:
    conf['transactional.id'] = 'bench-' + topic
p = Producer(conf)
if txn > 0:
    p.init_transactions(30)
value = b'x' * 1024
# One warm-up record per partition before the clock starts: a producer's first use of a topic waits for its
# metadata (librdkafka's transactional producer up to a second), a one-time cost that is not the rate.
if txn > 0:
    p.begin_transaction()
for q in range(parts):
    p.produce(topic, value=value, partition=q)
if txn > 0:
    p.commit_transaction(60)
p.flush(60)
t0 = time.time()
for i in range(n):
    if txn > 0 and i % txn == 0:
        p.begin_transaction()
    while True:
        try:
            p.produce(topic, value=value, partition=i % parts)
            break
        except BufferError:
            p.poll(0.01)
    if txn > 0 and i % txn == txn - 1:
        p.commit_transaction(60)
if txn > 0 and n % txn != 0:
    p.commit_transaction(60)
p.flush(60)
print(time.time() - t0)
`

const consumeScript = `
import sys, time
from confluent_kafka import Consumer, TopicPartition
b, topic, n, isolation = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
c = Consumer({'bootstrap.servers': b, 'group.id': 'bench-' + isolation, 'isolation.level': isolation,
              'enable.auto.commit': False, 'fetch.max.bytes': 16777216})
c.assign([TopicPartition(topic, 0, 0)])
t0 = time.time()
got = 0
while got < n:
    for m in c.consume(1000, 1.0):
        if not m.error():
            got += 1
print(time.time() - t0)
c.close()
`

function python(script: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', ['-c', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      err += d
    })
    child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim())) : reject(new Error(`python: ${err}`))))
  })
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const rate = (seconds: number) => Math.round(N / seconds)

const dir = mkdtempSync(join(tmpdir(), 'wharf-bench-kafka-txn-'))
const broker = await createBroker({ dataDir: dir, durability })
const listener = await startKafkaListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
const bootstrap = `127.0.0.1:${listener.port}`
try {
  const plain: number[] = []
  const txn: number[] = []
  const plainMany: number[] = []
  const txnMany: number[] = []
  const produce = async (topic: string, partitions: number, transaction: number) => {
    await broker.createStream(topic, { partitions })
    return python(produceScript, [bootstrap, topic, String(N), String(transaction), String(partitions)])
  }
  for (let rep = 0; rep < REPS; rep++) {
    plain.push(await produce(`plain-${rep}`, 1, 0))
    txn.push(await produce(`txn-${rep}`, 1, TXN))
    plainMany.push(await produce(`plain-many-${rep}`, PARTS, 0))
    txnMany.push(await produce(`txn-many-${rep}`, PARTS, TXN))
    console.log(
      `rep ${rep}: 1 partition: plain ${rate(plain[rep]!)} msg/s, transactional ${rate(txn[rep]!)} msg/s; ` +
        `${PARTS} partitions: plain ${rate(plainMany[rep]!)} msg/s, transactional ${rate(txnMany[rep]!)} msg/s`,
    )
  }
  const committed: number[] = []
  const uncommitted: number[] = []
  for (let rep = 0; rep < REPS; rep++) {
    uncommitted.push(await python(consumeScript, [bootstrap, 'txn-0', String(N), 'read_uncommitted']))
    committed.push(await python(consumeScript, [bootstrap, 'txn-0', String(N), 'read_committed']))
    console.log(
      `rep ${rep}: replay read_uncommitted ${rate(uncommitted[rep]!)} msg/s, read_committed ${rate(committed[rep]!)} msg/s`,
    )
  }
  const p = rate(median(plain))
  const t = rate(median(txn))
  const pm = rate(median(plainMany))
  const tm = rate(median(txnMany))
  const u = rate(median(uncommitted))
  const c = rate(median(committed))
  console.log(`\n${N} x 1 KiB, acks=all, durability=${durability}, transactions of ${TXN}, medians of ${REPS}:`)
  console.log(
    `produce, 1 partition   plain ${p} msg/s · transactional ${t} msg/s · ratio ${((100 * t) / p).toFixed(0)}%`,
  )
  console.log(
    `produce, ${PARTS} partitions  plain ${pm} msg/s · transactional ${tm} msg/s · ratio ${((100 * tm) / pm).toFixed(0)}%`,
  )
  console.log(`replay   read_uncommitted ${u} msg/s · read_committed ${c} msg/s · ratio ${((100 * c) / u).toFixed(0)}%`)
} finally {
  await listener.close()
  await broker.close()
  rmSync(dir, { recursive: true, force: true })
}
