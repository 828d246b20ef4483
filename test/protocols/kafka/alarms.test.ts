// Resource alarms throttle Kafka producers: while a disk or memory alarm is active a Produce is not appended.
// It is held (answered when the alarm clears, appended then) for at most alarmProduceWaitMsMax and the
// request's timeout, then answered REQUEST_TIMED_OUT with throttle_time_ms, which kafkajs retries; fetches keep
// working and the listener counts the blocked producer.
import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { test } from 'node:test'
import { Kafka, logLevel } from 'kafkajs'
import { startHttpListener } from '../../../src/protocols/http/listener.ts'
import type { FetchResponse, ProduceResponse } from '../../../src/protocols/kafka/codec/index.ts'
import { encodeBatch } from '../../../src/record/index.ts'
import { createAlarmMonitor } from '../../../src/server/alarms.ts'
import { silentLogger } from '../../../src/util/logger.ts'
import { diskAlarms } from '../../fixtures/alarmed-wharf.ts'
import { silentKafkaLogs, startHarness } from './harness.ts'
import { RawClient } from './raw-client.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const REQUEST_TIMED_OUT = 7

function produce(topic: string, value: string, timeoutMs = 30_000) {
  const records = encodeBatch([{ key: null, value: Buffer.from(value), headers: [] }])
  return {
    transactionalId: null,
    acks: 1,
    timeoutMs,
    topicData: [{ name: topic, partitionData: [{ index: 0, records }] }],
  }
}

const fetchAll = (topic: string) => ({
  replicaId: -1,
  maxWaitMs: 0,
  minBytes: 1,
  maxBytes: 1 << 20,
  isolationLevel: 0,
  sessionId: 0,
  sessionEpoch: -1,
  topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] }],
  forgottenTopicsData: [],
  rackId: '',
})

test('kafkajs under a memory alarm: nothing is appended, fetches work; after it clears the send succeeds once', {
  timeout: 60_000,
}, async (t) => {
  const alarms = createAlarmMonitor({
    dataDir: tmpdir(),
    diskFreeLimitBytes: 0,
    memoryHighWatermarkBytes: 0,
    intervalMs: 0,
  })
  t.after(() => alarms.close())
  const h = await startHarness(t, { alarmProduceWaitMsMax: 400 }, { alarms })
  await h.broker.createStream('held', { partitions: 1 })
  await h.broker.produce('held', [{ value: 'before' }])
  const log = h.broker.stream('held').partitionLog(0)
  const kafka = new Kafka({
    clientId: 'alarmed',
    brokers: [h.bootstrap],
    logLevel: logLevel.NOTHING,
    logCreator: silentKafkaLogs,
    retry: { retries: 30, initialRetryTime: 100, maxRetryTime: 500 },
  })
  const producer = kafka.producer()
  await producer.connect()
  h.defer(() => producer.disconnect())
  // The admin API lists the blocked producer under its protocol.
  const started = new Map([['kafka', h.listener]])
  const http = await startHttpListener({ broker: h.broker, host: '127.0.0.1', port: 0, logger: silentLogger, started })
  t.after(() => http.close())
  const blockedByProtocol = async () =>
    (
      (await (await fetch(`http://127.0.0.1:${http.port}/api/v1/alarms`)).json()) as {
        blockedPublishersByProtocol: Record<string, number>
      }
    ).blockedPublishersByProtocol

  alarms.force('memory', 'forced memory alarm')
  let sent = false
  const sending = producer.send({ topic: 'held', acks: -1, messages: [{ value: 'during' }] }).then((r) => {
    sent = true
    return r
  })
  // Several hold periods pass (each answered REQUEST_TIMED_OUT and retried): nothing is appended.
  for (let i = 0; i < 30 && h.listener.blockedPublisherCount === 0; i++) await sleep(50)
  assert.equal(h.listener.blockedPublisherCount, 1)
  await sleep(1500)
  assert.equal(sent, false)
  assert.equal(log.highWatermark, 1)
  assert.equal(h.listener.blockedPublisherCount, 1)
  assert.deepEqual(await blockedByProtocol(), { kafka: 1 })

  // A consumer's fetch is answered meanwhile.
  const reader = new RawClient(h.port)
  t.after(() => reader.socket.destroy())
  reader.send(1, 11, 1, fetchAll('held'))
  const fetched = await reader.response<FetchResponse>(1, 11)
  const records = fetched.body.responses[0]!.partitions[0]!.records
  assert.ok((Array.isArray(records) ? Buffer.concat(records) : records!).includes(Buffer.from('before')))

  alarms.force('memory', null)
  await sending
  assert.equal(log.highWatermark, 2, 'appended once after the alarm cleared')
  assert.equal(h.listener.blockedPublisherCount, 0)
  assert.deepEqual(await blockedByProtocol(), { kafka: 0 })
})

test('a disk alarm active from the start: produce held, REQUEST_TIMED_OUT with throttle time; appended once it clears', {
  timeout: 30_000,
}, async (t) => {
  const { alarms, disk } = diskAlarms(tmpdir(), 10_000, 1_000)
  await alarms.check()
  t.after(() => alarms.close())
  const h = await startHarness(t, { alarmProduceWaitMsMax: 300 }, { alarms })
  await h.broker.createStream('disk', { partitions: 1 })
  const log = h.broker.stream('disk').partitionLog(0)
  const c = new RawClient(h.port)
  t.after(() => c.socket.destroy())

  // Held for the listener's bound, then refused with a retriable error and the time it was held.
  c.send(0, 7, 1, produce('disk', 'one'))
  const refused = await c.response<ProduceResponse>(0, 7)
  assert.equal(refused.body.responses[0]!.partitionResponses[0]!.errorCode, REQUEST_TIMED_OUT)
  assert.ok((refused.body.throttleTimeMs ?? 0) >= 250, `throttle ${refused.body.throttleTimeMs}`)
  // The request's own shorter timeout bounds the hold too.
  c.send(0, 7, 2, produce('disk', 'two', 50))
  const short = await c.response<ProduceResponse>(0, 7)
  assert.equal(short.body.responses[0]!.partitionResponses[0]!.errorCode, REQUEST_TIMED_OUT)
  assert.ok((short.body.throttleTimeMs ?? 0) < 300)
  assert.equal(log.highWatermark, 0)

  // Two pipelined produces held when the alarm clears: both appended, in wire order.
  const long = { alarmProduceWaitMsMax: 10_000 }
  const h2 = await startHarness(t, long, { alarms })
  await h2.broker.createStream('disk', { partitions: 1 })
  const c2 = new RawClient(h2.port)
  t.after(() => c2.socket.destroy())
  c2.send(0, 7, 1, produce('disk', 'first'))
  c2.send(0, 7, 2, produce('disk', 'second'))
  await sleep(300)
  assert.equal(h2.broker.stream('disk').partitionLog(0).highWatermark, 0)
  assert.equal(h2.listener.blockedPublisherCount, 1)
  disk.free = 100_000
  await alarms.check()
  const first = await c2.response<ProduceResponse>(0, 7)
  const second = await c2.response<ProduceResponse>(0, 7)
  assert.deepEqual(
    [
      first.body.responses[0]!.partitionResponses[0]!.errorCode,
      second.body.responses[0]!.partitionResponses[0]!.errorCode,
    ],
    [0, 0],
  )
  assert.equal(first.body.responses[0]!.partitionResponses[0]!.baseOffset, 0)
  assert.equal(second.body.responses[0]!.partitionResponses[0]!.baseOffset, 1)
  const { messages } = await h2.broker.readMessages('disk', 0, 0, 1 << 20)
  assert.deepEqual(
    messages.map((m) => m.value?.toString()),
    ['first', 'second'],
  )
})
