// MQTT, STOMP, AMQP 1.0 and SQS have no redirect either: on a cluster, a client works with whichever broker it reached.
// Durable queues are served by their owner through the broker-to-broker link (queue-forwarding.test.ts);
// subscriptions only one broker knows (MQTT clean sessions and QoS 0 subscribers, AMQP exclusive queues) get
// the publishes other brokers route through the same exchange, relayed over the link.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import amqp from 'amqplib'
import mqtt from 'mqtt'
import rhea from 'rhea'
import stompit from 'stompit'
import { type ClusterBroker, startCluster, until } from '../fixtures/cluster.ts'
import { gather, once, sendAll } from '../protocols/amqp10/rhea-helpers.ts'
import { sleep } from './kafka-helpers.ts'

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

function mqttClient(broker: ClusterBroker, clientId: string, clean: boolean): Promise<mqtt.MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(`mqtt://127.0.0.1:${broker.ports.mqtt}`, { clientId, clean, reconnectPeriod: 0 })
    client.once('connect', () => resolve(client))
    client.once('error', reject)
  })
}

/** Publishes `count` numbered QoS 1 messages from `from` until `received` holds them all (a subscription on
 * another broker becomes known there within a moment, so early rounds may reach nobody). */
async function publishUntilReceived(
  from: mqtt.MqttClient,
  topic: string,
  received: Set<string>,
  count: number,
): Promise<void> {
  await until(`${count} messages on ${topic}`, async () => {
    received.clear()
    for (let i = 0; i < count; i++) await from.publishAsync(topic, `${topic}-${i}`, { qos: 1 })
    await sleep(300)
    return received.size === count ? true : undefined
  })
}

test('MQTT, STOMP, AMQP 1.0, SQS and AMQP exclusive queues across the brokers of a cluster', {
  timeout: 300_000,
}, async (t) => {
  const cluster = await startCluster(t, { brokers: 2, listeners: ['amqp', 'mqtt', 'stomp', 'http'] })
  if (cluster === undefined) return
  const [a, b] = cluster.brokers as [ClusterBroker, ClusterBroker]

  await t.test(
    'mqtt.js: clean-session QoS 1 and QoS 0 subscribers on one broker get QoS 1 publishes made on the other',
    async () => {
      const subscriber = await mqttClient(a, 'sub-clean', true)
      const qos0 = await mqttClient(a, 'sub-qos0', true)
      const publisher = await mqttClient(b, 'pub', true)
      try {
        const got = new Set<string>()
        const got0 = new Set<string>()
        subscriber.on('message', (_topic, payload) => got.add(payload.toString()))
        qos0.on('message', (_topic, payload) => got0.add(payload.toString()))
        await subscriber.subscribeAsync('sensors/+/t', { qos: 1 })
        await qos0.subscribeAsync('sensors/+/t', { qos: 0 })
        await publishUntilReceived(publisher, 'sensors/1/t', got, 20)
        await until('the QoS 0 subscriber', async () => (got0.size === 20 ? true : undefined))
      } finally {
        await Promise.all([subscriber.endAsync(), qos0.endAsync(), publisher.endAsync()])
      }
    },
  )

  await t.test(
    'mqtt.js: a persistent session on one broker gets what is published on the other while it is away',
    async () => {
      const first = await mqttClient(a, 'sub-kept', false)
      await first.subscribeAsync('kept/#', { qos: 1 })
      await first.endAsync()
      const publisher = await mqttClient(b, 'pub-kept', true)
      // The session's queue and binding reach broker b through the shared catalog.
      await sleep(1000)
      for (let i = 0; i < 10; i++) await publisher.publishAsync('kept/x', `kept-${i}`, { qos: 1 })
      await publisher.endAsync()
      const got = new Set<string>()
      const again = await new Promise<mqtt.MqttClient>((resolve, reject) => {
        const client = mqtt.connect(`mqtt://127.0.0.1:${a.ports.mqtt}`, {
          clientId: 'sub-kept',
          clean: false,
          reconnectPeriod: 0,
        })
        client.on('message', (_topic, payload) => got.add(payload.toString()))
        client.once('connect', () => resolve(client))
        client.once('error', reject)
      })
      try {
        await until('the 10 kept messages', async () => (got.size === 10 ? true : undefined))
      } finally {
        await again.endAsync()
      }
    },
  )

  await t.test(
    'mqtt.js v5: the same client id connecting through the other broker takes the session over',
    async () => {
      const v5 = { clientId: 'roamer', clean: false, protocolVersion: 5 as const, reconnectPeriod: 0 }
      const expiry = { properties: { sessionExpiryInterval: 300 } }
      const first = await mqtt.connectAsync(`mqtt://127.0.0.1:${a.ports.mqtt}`, { ...v5, ...expiry })
      await first.subscribeAsync('roam/#', { qos: 1 })
      const takenOver = new Promise<number | undefined>((resolve) =>
        first.once('disconnect', (p) => resolve(p.reasonCode)),
      )
      const closed = new Promise<void>((resolve) => first.once('close', () => resolve()))
      // The session (subscription included) reaches broker b through the shared catalog.
      await sleep(1000)
      const second = mqtt.connect(`mqtt://127.0.0.1:${b.ports.mqtt}`, { ...v5, ...expiry })
      const connack = await new Promise<mqtt.IConnackPacket>((resolve, reject) => {
        second.once('connect', resolve)
        second.once('error', reject)
      })
      try {
        assert.equal(connack.sessionPresent, true, 'the session found through the other broker')
        assert.equal(await takenOver, 0x8e, 'the first connection is told: Session taken over')
        await closed
        const got = new Set<string>()
        second.on('message', (_topic, payload) => got.add(payload.toString()))
        const publisher = await mqttClient(a, 'roam-pub', true)
        await publishUntilReceived(publisher, 'roam/1', got, 5)
        await publisher.endAsync()
      } finally {
        first.end(true)
        await second.endAsync()
      }
    },
  )

  await t.test('mqtt.js: a message retained through one broker is sent to a new subscriber on the other', async () => {
    const publisher = await mqttClient(a, 'retainer', true)
    await publisher.publishAsync('status/door', 'open', { qos: 1, retain: true })
    await publisher.endAsync()
    const subscriber = await mqttClient(b, 'late-reader', true)
    try {
      const got = new Promise<string>((resolve) =>
        subscriber.on('message', (topic, payload, packet) => packet.retain && resolve(`${topic}=${payload}`)),
      )
      await subscriber.subscribeAsync('status/#', { qos: 1 })
      const late = sleep(15_000).then(() => 'nothing retained within 15 s')
      assert.equal(await Promise.race([got, late]), 'status/door=open')
    } finally {
      await subscriber.endAsync()
    }
  })

  await t.test('amqplib: a reply to an exclusive queue on one broker published on the other', async () => {
    const server = await amqp.connect(`amqp://guest:guest@127.0.0.1:${a.ports.amqp}`)
    const client = await amqp.connect(`amqp://guest:guest@127.0.0.1:${b.ports.amqp}`)
    try {
      const sch = await server.createChannel()
      const { queue } = await sch.assertQueue('', { exclusive: true })
      const replies: string[] = []
      await sch.consume(queue, (m) => m && replies.push(m.content.toString()), { noAck: true })
      const cch = await client.createChannel()
      await until('the reply', async () => {
        cch.sendToQueue(queue, Buffer.from('reply'))
        await sleep(300)
        return replies.length > 0 ? true : undefined
      })
    } finally {
      await Promise.all([server.close(), client.close()])
    }
  })

  await t.test('stompit: SEND to a queue on one broker, SUBSCRIBE with client acks on the other', async () => {
    const connect = (broker: ClusterBroker) =>
      new Promise<stompit.Client>((resolve, reject) =>
        stompit.connect({ host: '127.0.0.1', port: broker.ports.stomp!, connectHeaders: { host: '/' } }, (e, c) =>
          e ? reject(e) : resolve(c),
        ),
      )
    const sender = await connect(b)
    for (let i = 0; i < 10; i++) {
      const frame = sender.send({ destination: '/queue/jobs', receipt: `r${i}`, persistent: 'true' })
      frame.end(`job-${i}`)
    }
    await new Promise<void>((resolve) => sender.disconnect(() => resolve()))
    const receiver = await connect(a)
    receiver.on('error', () => {})
    const got = new Set<string>()
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${got.size} of 10 jobs`)), 30_000)
      receiver.subscribe({ destination: '/queue/jobs', ack: 'client-individual' }, (error, message) => {
        if (error) return reject(error)
        message.readString('utf-8', (readError, body) => {
          if (readError) return reject(readError)
          got.add(body!)
          receiver.ack(message)
          if (got.size === 10) {
            clearTimeout(timer)
            resolve()
          }
        })
      })
    })
    await new Promise<void>((resolve) => receiver.disconnect(() => resolve()))
  })

  await t.test('rhea (AMQP 1.0): sends accepted on one broker, received and accepted on the other', async () => {
    const open = async (broker: ClusterBroker) => {
      const connection = rhea
        .create_container()
        .connect({ host: '127.0.0.1', port: broker.ports.amqp!, reconnect: false } as rhea.ConnectionOptions)
      await once(connection, 'connection_open')
      return connection
    }
    const sending = await open(b)
    await sendAll(
      sending,
      'orders10',
      Array.from({ length: 10 }, (_, i) => ({ body: `order-${i}`, durable: true })),
    )
    sending.close()
    const receiving = await open(a)
    const receiver = receiving.open_receiver({ source: 'orders10', autoaccept: true, credit_window: 5 })
    const got = gather(receiver)
    await got.next(10)
    assert.deepEqual(got.bodies().sort(), Array.from({ length: 10 }, (_, i) => `order-${i}`).sort())
    receiving.close()
  })

  await t.test('AWS SDK: SendMessage on one broker, ReceiveMessage and DeleteMessage on the other', async () => {
    const one = new SQSClient({ endpoint: `http://127.0.0.1:${a.ports.http}`, region: 'us-east-1', credentials })
    const two = new SQSClient({ endpoint: `http://127.0.0.1:${b.ports.http}`, region: 'us-east-1', credentials })
    t.after(() => {
      one.destroy()
      two.destroy()
    })
    const url = (await one.send(new CreateQueueCommand({ QueueName: 'orders' }))).QueueUrl!
    await sleep(500)
    const sent = new Set<string>()
    for (let i = 0; i < 10; i++) {
      const url2 = url.replace(`:${a.ports.http}/`, `:${b.ports.http}/`)
      const answer = await two.send(new SendMessageCommand({ QueueUrl: url2, MessageBody: `order-${i}` }))
      assert.ok(answer.MessageId)
      sent.add(`order-${i}`)
    }
    const got = new Set<string>()
    await until('every order', async () => {
      const { Messages = [] } = await one.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      )
      for (const m of Messages) {
        got.add(m.Body!)
        await one.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle! }))
      }
      return got.size === sent.size ? true : undefined
    })
    const { Messages = [] } = await two.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1 }))
    assert.deepEqual(Messages, [], 'deleted through the other broker: nothing left')

    // A delay, a visibility change, a delete by receipt handle, a purge and the queue's deletion, each made
    // through one broker and seen through the other (whichever of the two serves the queue, one side of each
    // pair forwards). Receipt handles work through either broker.
    const later = (await one.send(new CreateQueueCommand({ QueueName: 'later' }))).QueueUrl!
    await until(
      'the queue known to the other broker',
      async () => (await two.send(new GetQueueUrlCommand({ QueueName: 'later' })).catch(() => undefined))?.QueueUrl,
    )
    const sentAt = Date.now()
    await two.send(new SendMessageCommand({ QueueUrl: later, MessageBody: 'delayed', DelaySeconds: 2 }))
    const early = await one.send(new ReceiveMessageCommand({ QueueUrl: later }))
    assert.deepEqual(early.Messages ?? [], [], 'not before its delay')
    const first = await until('the delayed message', async () => {
      const { Messages: m = [] } = await one.send(new ReceiveMessageCommand({ QueueUrl: later, WaitTimeSeconds: 1 }))
      return m[0]
    })
    assert.ok(Date.now() - sentAt >= 2000, 'received after its delay')
    await two.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: later,
        ReceiptHandle: first.ReceiptHandle!,
        VisibilityTimeout: 0,
      }),
    )
    const again = await until('the message visible again', async () => {
      const { Messages: m = [] } = await two.send(
        new ReceiveMessageCommand({
          QueueUrl: later,
          WaitTimeSeconds: 1,
          VisibilityTimeout: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      )
      return m[0]
    })
    assert.equal(again.Body, 'delayed')
    assert.equal(again.Attributes?.ApproximateReceiveCount, '2')
    // Deleted through the broker it was not received through: it does not come back when its 1 s is up.
    await one.send(new DeleteMessageCommand({ QueueUrl: later, ReceiptHandle: again.ReceiptHandle! }))
    await sleep(1500)
    const gone = await two.send(new ReceiveMessageCommand({ QueueUrl: later, WaitTimeSeconds: 1 }))
    assert.deepEqual(gone.Messages ?? [], [], 'deleted through the other broker')
    for (let i = 0; i < 5; i++) await one.send(new SendMessageCommand({ QueueUrl: later, MessageBody: `p-${i}` }))
    await two.send(new PurgeQueueCommand({ QueueUrl: later }))
    const purged = await one.send(new ReceiveMessageCommand({ QueueUrl: later, WaitTimeSeconds: 1 }))
    assert.deepEqual(purged.Messages ?? [], [], 'purged through the other broker')
    await two.send(new DeleteQueueCommand({ QueueUrl: later }))
    await until(
      'the queue gone from the first broker',
      async () =>
        await one.send(new GetQueueUrlCommand({ QueueName: 'later' })).then(
          () => undefined,
          (error: Error) => error.name,
        ),
    )
  })
})
