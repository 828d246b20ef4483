// Exactly-once consume-transform-produce: a librdkafka (python3-confluent-kafka) processor reads `in`
// read_committed, writes `out` and commits its input offsets in the same transaction (sendOffsets). It is
// SIGKILLed at random moments and restarted with the same transactional id; `out` must hold each input's
// result exactly once for read_committed readers.
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { test } from 'node:test'
import { run, startHarness } from './harness.ts'

const INPUTS = process.env.WHARF_LONG ? 3000 : 400
const KILLS = process.env.WHARF_LONG ? 8 : 3

const feederScript = `
import sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': '127.0.0.1:' + sys.argv[1], 'linger.ms': 5})
for n in range(int(sys.argv[2])):
    p.produce('in', key=b'%d' % n, value=b'%d' % n)
p.flush(30)
`

const processorScript = `
import sys, time
from confluent_kafka import Consumer, Producer
b = '127.0.0.1:' + sys.argv[1]
c = Consumer({'bootstrap.servers': b, 'group.id': 'eos', 'auto.offset.reset': 'earliest',
              'enable.auto.commit': False, 'isolation.level': 'read_committed',
              'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500})
p = Producer({'bootstrap.servers': b, 'transactional.id': 'eos-processor', 'linger.ms': 2})
# Fences the killed instance and aborts whatever it left open before this one reads committed offsets.
p.init_transactions(30)
c.subscribe(['in'])
idle = time.time()
while time.time() - idle < float(sys.argv[2]):
    msgs = [m for m in c.consume(10, 0.5) if not m.error()]
    if not msgs:
        continue
    idle = time.time()
    p.begin_transaction()
    for m in msgs:
        p.produce('out', key=m.key(), value=b'out-' + m.value())
    p.flush(30)
    time.sleep(0.05)  # some work: widens the window in which a kill lands inside a transaction
    p.send_offsets_to_transaction(c.position(c.assignment()), c.consumer_group_metadata(), 30)
    p.commit_transaction(30)
    print(len(msgs), flush=True)
c.close()
`

const readerScript = `
import sys, json, time
from confluent_kafka import Consumer
c = Consumer({'bootstrap.servers': '127.0.0.1:' + sys.argv[1], 'group.id': 'eos-check', 'auto.offset.reset': 'earliest',
              'isolation.level': 'read_committed', 'enable.auto.commit': False})
c.subscribe(['out'])
values = []
idle = time.time()
while time.time() - idle < 5:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    values.append(m.value().decode())
    idle = time.time()
c.close()
print(json.dumps(values))
`

interface Processor {
  proc: ChildProcess
  progress: () => number
  stderr: () => string
  exited: Promise<unknown>
}

function startProcessor(port: number, idleSeconds: number): Processor {
  const proc = spawn('/usr/bin/python3', ['-c', processorScript, String(port), String(idleSeconds)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let processed = 0
  let stderr = ''
  proc.stderr!.on('data', (d) => {
    stderr += d
  })
  const exited = new Promise((resolve) => proc.once('exit', resolve))
  proc.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) if (line !== '') processed += Number(line)
  })
  return { proc, progress: () => processed, stderr: () => stderr, exited }
}

test('exactly-once pipeline: a processor SIGKILLed at random moments writes each result exactly once', async (t) => {
  const h = await startHarness(t)
  await h.broker.createStream('in', { partitions: 2 })
  await h.broker.createStream('out', { partitions: 2 })
  await run('/usr/bin/python3', ['-c', feederScript, String(h.port), String(INPUTS)], { timeoutMs: 60_000 })

  let killedWhileWorking = 0
  for (let kill = 0; kill < KILLS; kill++) {
    const processor = startProcessor(h.port, 60)
    t.after(() => processor.proc.kill('SIGKILL'))
    // Let it make some progress (a rejoin waits out the dead member's session), then kill it mid-stream.
    const deadline = Date.now() + 30_000
    while (processor.progress() === 0 && processor.proc.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100))
    assert.equal(processor.proc.exitCode, null, `processor failed: ${processor.stderr()}`)
    await new Promise((r) => setTimeout(r, 200 + Math.random() * 1500))
    processor.proc.kill('SIGKILL')
    await processor.exited
    if (processor.progress() > 0) killedWhileWorking++
  }
  // A last instance finishes the input and stops after 8 s without new records.
  const last = startProcessor(h.port, 8)
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('processor did not finish')), 180_000)
    void last.exited.then(() => {
      clearTimeout(timer)
      resolve()
    })
  })

  const { stdout } = await run('/usr/bin/python3', ['-c', readerScript, String(h.port)], { timeoutMs: 90_000 })
  const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as string[]
  const counts = new Map<string, number>()
  for (const v of out) counts.set(v, (counts.get(v) ?? 0) + 1)
  const duplicated = [...counts].filter(([, n]) => n > 1).map(([v]) => v)
  assert.deepEqual(duplicated, [], 'no result twice')
  const missing = Array.from({ length: INPUTS }, (_, n) => `out-${n}`).filter((v) => !counts.has(v))
  assert.deepEqual(missing.slice(0, 20), [], `no result missing: ${last.stderr()}`)
  assert.equal(out.length, INPUTS)
  assert.ok(killedWhileWorking >= 1, 'at least one processor was killed while it had work')
})
