// Soak: a mixed load on every protocol at once against a real `wharf start` — kafkajs producer (acks=all) and
// consumer group, amqplib confirmed publishes and acked consumption, mqtt.js QoS 1 into a persistent session,
// AWS SDK SQS send/receive/delete, stompjs receipted persistent SENDs with client-individual acks, rhea AMQP 1.0
// transfers on the AMQP port — with the broker's RSS, heap, open file descriptors and event-loop delay
// sampled from its /metrics. Checked: every acknowledged message is consumed, and after warm-up the memory
// and descriptor samples stay flat (the last third of the run holds no more than the middle third plus a
// margin for GC timing): no leak. 2 minutes by default, 30 with WHARF_LONG=1; a summary line is printed.

import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import amqp from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import mqtt from 'mqtt'
import rhea from 'rhea'
import { startSpawned } from '../fixtures/spawned-wharf.ts'
import { sendWithReceipt, stompjs } from '../protocols/stomp/helpers.ts'

const durationMs = process.env.WHARF_LONG === '1' ? 30 * 60_000 : 2 * 60_000
const sampleEveryMs = 5000
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const MIB = 1024 * 1024

interface Sample {
  rss: number
  heap: number
  fds: number
  lagP99: number
}

async function sample(httpPort: number): Promise<Sample> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text()
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
  return {
    rss: value('wharf_process_resident_memory_bytes'),
    heap: value('wharf_nodejs_heap_size_used_bytes'),
    fds: value('wharf_process_open_fds'),
    lagP99: value('wharf_nodejs_eventloop_lag_p99_seconds'),
  }
}

/** Sent and received ids of one protocol's traffic. */
class Ledger {
  readonly acked = new Set<string>()
  readonly received = new Set<string>()
  missing(): string[] {
    return [...this.acked].filter((id) => !this.received.has(id))
  }
}

test(`soak: ${durationMs / 60_000} min of mixed load on every protocol, nothing lost, memory and descriptors flat`, {
  timeout: durationMs + 300_000,
}, async (t) => {
  // fsync always, as `wharf start` defaults to.
  const { ports } = await startSpawned(t, ['kafka', 'amqp', 'mqtt', 'http', 'stomp'], {
    args: ['--durability', 'always'],
  })

  const ledgers = {
    kafka: new Ledger(),
    amqp: new Ledger(),
    mqtt: new Ledger(),
    sqs: new Ledger(),
    stomp: new Ledger(),
    amqp10: new Ledger(),
  }
  const deadline = Date.now() + durationMs
  const running = () => Date.now() < deadline
  const body = (id: string) => `${id}:${'x'.repeat(512)}`
  const idOf = (text: string) => text.slice(0, text.indexOf(':'))

  // Kafka: batches of 20 with acks=all; a consumer group reads them.
  const kafka = new Kafka({ brokers: [`127.0.0.1:${ports.kafka}`], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  await admin.createTopics({ topics: [{ topic: 'soak-kafka', numPartitions: 2 }] })
  await admin.disconnect()
  const consumer = kafka.consumer({ groupId: 'soak' })
  await consumer.connect()
  await consumer.subscribe({ topic: 'soak-kafka', fromBeginning: true })
  await consumer.run({
    eachMessage: async ({ message }) => {
      ledgers.kafka.received.add(idOf(message.value!.toString()))
    },
  })
  const producer = kafka.producer()
  await producer.connect()
  const kafkaLoad = (async () => {
    for (let n = 0; running(); n += 20) {
      const ids = Array.from({ length: 20 }, (_, i) => `k${n + i}`)
      await producer.send({ topic: 'soak-kafka', acks: -1, messages: ids.map((id) => ({ key: id, value: body(id) })) })
      for (const id of ids) ledgers.kafka.acked.add(id)
      await sleep(20)
    }
  })()

  // AMQP: confirmed persistent publishes, one consumer acking with prefetch 100.
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`)
  const publish = await connection.createConfirmChannel()
  await publish.assertQueue('soak-amqp', { durable: true })
  const consume = await connection.createChannel()
  await consume.prefetch(100)
  await consume.consume('soak-amqp', (message) => {
    if (message === null) return
    ledgers.amqp.received.add(idOf(message.content.toString()))
    consume.ack(message)
  })
  const amqpLoad = (async () => {
    for (let n = 0; running(); n += 20) {
      const ids = Array.from({ length: 20 }, (_, i) => `a${n + i}`)
      for (const id of ids) publish.sendToQueue('soak-amqp', Buffer.from(body(id)), { persistent: true })
      await publish.waitForConfirms()
      for (const id of ids) ledgers.amqp.acked.add(id)
      await sleep(20)
    }
  })()

  // MQTT: QoS 1 publishes to a persistent-session subscriber.
  const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId: 'soak-sub', clean: false })
  subscriber.on('message', (_topic, payload) => ledgers.mqtt.received.add(idOf(payload.toString())))
  await subscriber.subscribeAsync('soak/#', { qos: 1 })
  const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { clientId: 'soak-pub' })
  const mqttLoad = (async () => {
    for (let n = 0; running(); n += 10) {
      const ids = Array.from({ length: 10 }, (_, i) => `m${n + i}`)
      await Promise.all(ids.map((id) => publisher.publishAsync(`soak/${id.length % 3}`, body(id), { qos: 1 })))
      for (const id of ids) ledgers.mqtt.acked.add(id)
      await sleep(20)
    }
  })()

  // SQS: batches of 10 sent; a receiver deletes what it gets.
  const sqs = new SQSClient({
    endpoint: `http://127.0.0.1:${ports.http}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  })
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'soak-sqs' }))
  const sqsLoad = (async () => {
    for (let n = 0; running(); n += 10) {
      const ids = Array.from({ length: 10 }, (_, i) => `s${n + i}`)
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl,
          Entries: ids.map((id, i) => ({ Id: String(i), MessageBody: body(id) })),
        }),
      )
      for (const id of ids) ledgers.sqs.acked.add(id)
      await sleep(50)
    }
  })()
  let receiving = true
  const sqsReceive = (async () => {
    while (receiving) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      )
      for (const m of Messages) ledgers.sqs.received.add(idOf(m.Body!))
      if (Messages.length > 0)
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl,
            Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        )
    }
  })()

  // STOMP: persistent SENDs with a receipt each (10 at a time); a client-individual subscriber acks.
  const stomp = await stompjs(t, { port: ports.stomp })
  stomp.subscribe(
    '/queue/soak-stomp',
    (message) => {
      ledgers.stomp.received.add(idOf(message.body))
      message.ack()
    },
    { ack: 'client-individual', 'activemq.prefetchSize': '100' },
  )
  const stompLoad = (async () => {
    for (let n = 0; running(); n += 10) {
      const ids = Array.from({ length: 10 }, (_, i) => `t${n + i}`)
      await Promise.all(ids.map((id) => sendWithReceipt(stomp, '/queue/soak-stomp', body(id), { persistent: 'true' })))
      for (const id of ids) ledgers.stomp.acked.add(id)
      await sleep(20)
    }
  })()

  // AMQP 1.0 on the AMQP port: unsettled transfers acknowledged by accepted; a receiver accepts.
  const amqp10 = rhea.create_container().connect({ host: '127.0.0.1', port: ports.amqp, reconnect: false })
  await new Promise((resolve) => amqp10.once('connection_open', resolve))
  amqp10.open_receiver({ source: 'soak-amqp10', credit_window: 100 }).on('message', (ctx) => {
    ledgers.amqp10.received.add(idOf(String(ctx.message!.body)))
  })
  const sender10 = amqp10.open_sender('soak-amqp10')
  await new Promise((resolve) => sender10.once('sendable', resolve))
  const amqp10Load = (async () => {
    for (let n = 0; running(); n += 10) {
      const ids = Array.from({ length: 10 }, (_, i) => `q${n + i}`)
      let left = ids.length
      const accepted = new Promise<void>((resolve) => {
        const onAccepted = () => {
          if (--left === 0) {
            sender10.removeListener('accepted', onAccepted)
            resolve()
          }
        }
        sender10.on('accepted', onAccepted)
      })
      for (const id of ids) sender10.send({ body: body(id) })
      await accepted
      for (const id of ids) ledgers.amqp10.acked.add(id)
      await sleep(20)
    }
  })()

  const samples: Sample[] = []
  while (running()) {
    await sleep(sampleEveryMs)
    samples.push(await sample(ports.http))
  }
  await Promise.all([kafkaLoad, amqpLoad, mqttLoad, sqsLoad, stompLoad, amqp10Load])
  // Let the consumers catch up (bounded), then stop them.
  for (let i = 0; i < 60 && Object.values(ledgers).some((l) => l.missing().length > 0); i++) await sleep(500)
  receiving = false
  await sqsReceive
  await consumer.disconnect()
  await producer.disconnect()
  await connection.close()
  await publisher.endAsync()
  await subscriber.endAsync()
  sqs.destroy()
  await stomp.deactivate()
  amqp10.close()

  for (const [name, ledger] of Object.entries(ledgers)) {
    assert.ok(ledger.acked.size > 0, `${name}: load ran`)
    assert.deepEqual(ledger.missing().slice(0, 5), [], `${name}: acknowledged messages never consumed`)
  }
  // Warm-up: the first third. Flat: the last third stays within the middle third plus GC margins.
  const third = Math.floor(samples.length / 3)
  const middle = samples.slice(third, 2 * third)
  const last = samples.slice(2 * third)
  const max = (xs: Sample[], key: keyof Sample) => Math.max(...xs.map((s) => s[key]))
  assert.ok(third >= 2, 'enough samples')
  assert.ok(
    max(last, 'heap') <= max(middle, 'heap') * 1.5 + 32 * MIB,
    `heap flat: ${JSON.stringify(samples.map((s) => s.heap))}`,
  )
  assert.ok(
    max(last, 'rss') <= max(middle, 'rss') * 1.3 + 64 * MIB,
    `RSS flat: ${JSON.stringify(samples.map((s) => s.rss))}`,
  )
  assert.ok(
    max(last, 'fds') <= max(middle, 'fds') + 16,
    `descriptors flat: ${JSON.stringify(samples.map((s) => s.fds))}`,
  )
  const first = samples[0]!
  const end = samples.at(-1)!
  console.log(
    `# soak ${durationMs / 60_000} min: ` +
      Object.entries(ledgers)
        .map(([name, l]) => `${name} ${l.acked.size} acked/${l.received.size} consumed`)
        .join(', ') +
      `; RSS ${(first.rss / MIB).toFixed(0)}→${(end.rss / MIB).toFixed(0)} MiB (max ${(max(samples, 'rss') / MIB).toFixed(0)})` +
      `, heap ${(first.heap / MIB).toFixed(0)}→${(end.heap / MIB).toFixed(0)} MiB, fds ${first.fds}→${end.fds}` +
      `, event-loop p99 max ${(max(samples, 'lagP99') * 1000).toFixed(0)} ms`,
  )
})
