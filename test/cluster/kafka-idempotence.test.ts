// An idempotent producer's partition moves away from a broker and back: broker A owns it, is SIGSTOPped past
// its lease (B takes the partition and the producer's sequences go on there), is SIGCONTed, and then B is
// SIGSTOPped, so the partition returns to A (if the controller has not already handed it back while evening out
// the counts). A must judge the next sequences by what B appended, not by what it knew before its pause: kafkajs
// (idempotent, acks=all) keeps producing without a sequence error, and every acknowledged message is in the log
// exactly once. And producer ids are unique across brokers: two idempotent producers that got theirs from
// different brokers write to one partition, and both keep every message.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ClusterBroker, clusterView, settledOwner, streamOwner } from '../fixtures/cluster.ts'
import { type Acked, allRead, audit, clusterWithTopic, consumeUntil, kafkaClient, sleep } from './kafka-helpers.ts'

const TOPIC = 'idem'
const STEP = 20
const METADATA_MAX_AGE_MS = 2000

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await sleep(100)
  }
}

test('an idempotent producer keeps its sequences when its partition moves away from a broker and back', {
  timeout: 300_000,
}, async (t) => {
  const started = await clusterWithTopic(
    t,
    TOPIC,
    { brokers: 2, leaseMs: 3000, heartbeatMs: 500, listeners: ['kafka', 'http'] },
    1,
  )
  if (started === undefined) return
  const { cluster, kafka } = started
  const first = cluster.byNodeId(await settledOwner(cluster, TOPIC))
  const second = cluster.brokers.find((b) => b !== first) as ClusterBroker

  // One sequential sender: each send is one batch with the next sequence number.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // kafkajs re-reads metadata on NOT_LEADER but not on a timeout, which is all a paused broker gives.
    metadataMaxAge: METADATA_MAX_AGE_MS,
  })
  await producer.connect()
  const acked: Acked[] = []
  const errors: string[] = []
  let stopped = false
  const sending = (async () => {
    for (let n = 0; !stopped; n++) {
      const id = `${TOPIC}-${n}`
      const sentAt = Date.now()
      try {
        const [meta] = await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition: 0, value: id }] })
        acked.push({ id, partition: 0, offset: Number(meta!.baseOffset), sentAt, at: Date.now() })
      } catch (error) {
        errors.push(`${id}: ${(error as Error).name}: ${(error as Error).message}`)
        await sleep(100)
      }
    }
  })()
  const stop = async () => {
    stopped = true
    await sending
    await producer.disconnect()
  }
  t.after(stop)
  const ackedSince = (at: number) => acked.filter((a) => a.sentAt > at).length

  await until(`${STEP} acknowledged sends`, () => acked.length >= STEP)
  first.signal('SIGSTOP')
  const firstStoppedAt = Date.now()
  assert.equal(await streamOwner(second, TOPIC, first.nodeId), second.nodeId)
  await until(`${STEP} sends acknowledged by broker ${second.nodeId}`, () => ackedSince(firstStoppedAt) >= STEP)

  first.signal('SIGCONT')
  await until(
    `broker ${first.nodeId} a member again`,
    async () => (await clusterView(second).catch(() => undefined))?.members.some((m) => m.id === first.nodeId) === true,
  )
  // kafkajs forgot A when B's metadata stopped naming it, and asks only brokers it knows (never its bootstrap list
  // while one of them holds an open socket): B must name A to it again before B pauses, or it waits on B forever.
  // Every send re-reads metadata older than its max age, so a send begun that long after B saw A has learnt of A.
  const memberAgainAt = Date.now()
  await until('a send that re-read the metadata naming A', () =>
    acked.some((a) => a.sentAt > memberAgainAt + METADATA_MAX_AGE_MS + 200),
  )
  // Back at the broker that held its producer state before the pause.
  const handedBack = (await streamOwner(first, TOPIC)) === first.nodeId
  second.signal('SIGSTOP')
  const secondStoppedAt = Date.now()
  assert.equal(await streamOwner(first, TOPIC, second.nodeId), first.nodeId)
  await until(
    `${STEP} sends acknowledged by broker ${first.nodeId} after the partition came back (errors: ${errors.slice(-3)})`,
    () => ackedSince(secondStoppedAt) >= STEP,
  )
  second.signal('SIGCONT')
  await stop()

  assert.deepEqual(
    errors.filter((e) => /sequence/i.test(e)),
    [],
    'no send failed on a sequence number',
  )
  const consumed = await consumeUntil(kafka, TOPIC, 'audit-idem', allRead(acked))
  const { problems, duplicates } = audit(acked, consumed)
  console.log(
    `back at broker ${first.nodeId} by ${handedBack ? 'the controller evening out the counts' : `broker ${second.nodeId}'s lease running out`}; ` +
      `acked ${acked.length}, failed sends ${errors.length}, values in the log twice ${duplicates}`,
  )
  assert.deepEqual(problems, [])
  assert.equal(duplicates, 0, 'an idempotent producer writes each message once')
})

test('idempotent producers whose ids come from different brokers both keep every message in one partition', {
  timeout: 180_000,
}, async (t) => {
  const started = await clusterWithTopic(t, 'pids', { brokers: 2 }, 1)
  if (started === undefined) return
  const { cluster, kafka } = started
  // kafkajs asks the broker its metadata names controller for a non-transactional producer id; each broker names
  // itself, so each producer gets its id from the broker it was bootstrapped on.
  const producers = cluster.brokers.map((broker) =>
    kafkaClient([`127.0.0.1:${broker.ports.kafka}`], `pids-${broker.nodeId}`).producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    }),
  )
  for (const producer of producers) {
    await producer.connect()
    t.after(() => producer.disconnect())
  }
  const acked: Acked[] = []
  for (let n = 0; n < 5; n++) {
    for (const [i, producer] of producers.entries()) {
      const id = `pids-${i}-${n}`
      const sentAt = Date.now()
      const [meta] = await producer.send({ topic: 'pids', acks: -1, messages: [{ partition: 0, value: id }] })
      acked.push({ id, partition: 0, offset: Number(meta!.baseOffset), sentAt, at: Date.now() })
    }
  }
  assert.equal(new Set(acked.map((a) => a.offset)).size, acked.length, 'every send acknowledged at its own offset')
  const consumed = await consumeUntil(kafka, 'pids', 'audit-pids', allRead(acked), 30_000)
  assert.deepEqual(consumed.map((c) => c.value).sort(), acked.map((a) => a.id).sort())
  assert.deepEqual(audit(acked, consumed).problems, [])
})
