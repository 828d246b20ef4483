// SIGKILL under load, on every protocol, through real clients against a real `wharf start` (fsync always):
// each cycle starts Wharf on the same data directory, runs a producer that records what the protocol
// acknowledged, kills Wharf with SIGKILL at a random moment, and goes again. At the end a last Wharf is
// drained. "Acknowledged" per protocol: Kafka — kafkajs send() resolved with acks=all on an idempotent
// producer; AMQP — the publisher confirm (basic.ack) arrived; MQTT — PUBACK (QoS 1) or PUBCOMP (QoS 2) for a
// message to a persistent session's subscription; SQS — SendMessage answered 200; STOMP — the RECEIPT of a
// persistent SEND to `/queue/kill` arrived (stompjs over TCP). Checked: every acknowledged
// message is there after the last restart, none is there twice (no producer retries across cycles, so a
// duplicate would be the broker's), and nothing unreadable is read.
// AMQP 1.0 (rhea): an unsettled transfer to the queue `kill10` is acknowledged by the broker's accepted
// disposition.
// WHARF_LONG=1 runs 50 cycles per protocol instead of 3.
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import { Client } from '@stomp/stompjs'
import { TCPWrapper } from '@stomp/tcp-wrapper'
import amqp from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import mqtt from 'mqtt'
import rhea from 'rhea'
import { freePort, spawnWharf } from '../fixtures/wharf-process.ts'

const cycles = process.env.WHARF_LONG === '1' ? 50 : 3
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Workload {
  name: string
  /** Listener flags for `wharf start` (the port comes from `port`). */
  flags(port: number): string[]
  /** Sends ids `${cycle}-${n}` until `stop` aborts or the broker dies; adds each acknowledged id to `acked`. */
  produce(port: number, cycle: number, acked: Set<string>, stop: AbortSignal): Promise<void>
  /** Every message body in the broker, after the last restart. */
  drain(port: number): Promise<string[]>
}

async function killLoop(workload: Workload): Promise<{ acked: number; found: number }> {
  const dir = mkdtempSync(join(tmpdir(), `wharf-kill-${workload.name}-`))
  const port = await freePort()
  const acked = new Set<string>()
  try {
    for (let cycle = 0; cycle < cycles; cycle++) {
      const wharf = spawnWharf(['--data-dir', dir, ...workload.flags(port)])
      await wharf.ready
      const stop = new AbortController()
      const ackedBefore = acked.size
      const producing = workload.produce(port, cycle, acked, stop.signal).catch(() => {})
      // Under load (a busy CI machine) the clients may need seconds to connect: the kill comes at a random
      // moment after this cycle's first acknowledgement, so every cycle kills a broker with acked data.
      for (let waited = 0; acked.size === ackedBefore && waited < 30_000; waited += 50) await sleep(50)
      await sleep(Math.random() * 1200)
      wharf.proc.kill('SIGKILL')
      await wharf.exit
      stop.abort()
      // Some clients leave a send pending forever when the socket dies (mqtt.js without reconnects): the
      // producer is abandoned then, its pending message unacknowledged.
      await Promise.race([producing, sleep(3000)])
    }
    const wharf = spawnWharf(['--data-dir', dir, ...workload.flags(port)])
    try {
      await wharf.ready
      const found = await workload.drain(port)
      const counts = new Map<string, number>()
      for (const id of found) counts.set(id, (counts.get(id) ?? 0) + 1)
      const lost = [...acked].filter((id) => !counts.has(id))
      assert.deepEqual(lost, [], `${workload.name}: acknowledged messages lost`)
      const duplicated = [...counts].filter(([, n]) => n > 1).map(([id]) => id)
      assert.deepEqual(duplicated, [], `${workload.name}: messages stored twice`)
      for (const id of found) assert.match(id, /^\d+-\d+$/, `${workload.name}: an unreadable message`)
      return { acked: acked.size, found: found.length }
    } finally {
      wharf.proc.kill('SIGKILL')
      await wharf.exit
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const kafka: Workload = {
  name: 'kafka',
  flags: (port) => ['--kafka-port', String(port)],
  async produce(port, cycle, acked, stop) {
    const client = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 2 } })
    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    try {
      for (let n = 0; !stop.aborted; n += 10) {
        const ids = Array.from({ length: 10 }, (_, i) => `${cycle}-${n + i}`)
        await producer.send({ topic: 'kill', acks: -1, messages: ids.map((value) => ({ value })) })
        for (const id of ids) acked.add(id)
      }
    } finally {
      await producer.disconnect().catch(() => {})
    }
  },
  async drain(port) {
    const client = new Kafka({ brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING })
    const admin = client.admin()
    await admin.connect()
    const high = (await admin.fetchTopicOffsets('kill'))[0]?.high ?? '0'
    await admin.disconnect()
    const consumer = client.consumer({ groupId: 'drain' })
    await consumer.connect()
    await consumer.subscribe({ topic: 'kill', fromBeginning: true })
    const found: string[] = []
    await new Promise<void>((resolve, reject) => {
      if (Number(high) === 0) return resolve()
      consumer
        .run({
          eachMessage: async ({ message }) => {
            found.push(message.value!.toString())
            if (Number(message.offset) + 1 >= Number(high)) resolve()
          },
        })
        .catch(reject)
    })
    await consumer.disconnect()
    return found
  },
}

const amqpWorkload: Workload = {
  name: 'amqp',
  flags: (port) => ['--amqp-port', String(port)],
  async produce(port, cycle, acked, stop) {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`)
    connection.on('error', () => {})
    try {
      const channel = await connection.createConfirmChannel()
      channel.on('error', () => {})
      await channel.assertQueue('kill', { durable: true })
      for (let n = 0; !stop.aborted; n++) {
        const id = `${cycle}-${n}`
        await new Promise<void>((resolve, reject) =>
          channel.sendToQueue('kill', Buffer.from(id), { persistent: true }, (error) =>
            error ? reject(error) : resolve(),
          ),
        )
        acked.add(id)
      }
    } finally {
      await connection.close().catch(() => {})
    }
  },
  async drain(port) {
    const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${port}`)
    const channel = await connection.createChannel()
    const found: string[] = []
    for (;;) {
      const message = await channel.get('kill', { noAck: true })
      if (message === false) break
      found.push(message.content.toString())
    }
    await connection.close()
    return found
  },
}

const mqttWorkload: Workload = {
  name: 'mqtt',
  flags: (port) => ['--mqtt-port', String(port)],
  async produce(port, cycle, acked, stop) {
    const options = { reconnectPeriod: 0, connectTimeout: 5000 }
    if (cycle === 0) {
      // The persistent session that collects everything: subscribed once, then offline.
      const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
        ...options,
        clientId: 'kill-sink',
        clean: false,
      })
      await subscriber.subscribeAsync('kill/#', { qos: 1 })
      await subscriber.endAsync()
    }
    const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...options, clientId: `kill-pub-${cycle}` })
    publisher.on('error', () => {})
    try {
      for (let n = 0; !stop.aborted; n++) {
        const id = `${cycle}-${n}`
        await publisher.publishAsync(`kill/${cycle}`, id, { qos: n % 2 === 0 ? 1 : 2 })
        acked.add(id)
      }
    } finally {
      publisher.end(true)
    }
  },
  async drain(port) {
    const found: string[] = []
    const sink = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: 'kill-sink',
      clean: false,
      reconnectPeriod: 0,
    })
    sink.on('message', (_topic, payload) => found.push(payload.toString()))
    // Queued messages flow after CONNACK; done when nothing new arrives for a while.
    let seen = -1
    while (seen !== found.length) {
      seen = found.length
      await sleep(1000)
    }
    await sink.endAsync()
    return found
  },
}

function sqsClient(port: number): SQSClient {
  return new SQSClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  })
}

const sqs: Workload = {
  name: 'sqs',
  flags: (port) => ['--http-port', String(port)],
  async produce(port, cycle, acked, stop) {
    const client = sqsClient(port)
    try {
      const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'kill' }))
      for (let n = 0; !stop.aborted; n++) {
        const id = `${cycle}-${n}`
        await client.send(new SendMessageCommand({ QueueUrl, MessageBody: id }))
        acked.add(id)
      }
    } finally {
      client.destroy()
    }
  },
  async drain(port) {
    const client = sqsClient(port)
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: 'kill' }))
    const found: string[] = []
    for (;;) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }),
      )
      if (Messages.length === 0) break
      for (const m of Messages) found.push(m.Body!)
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl,
          Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
        }),
      )
    }
    client.destroy()
    return found
  },
}

/** A connected stompjs client over TCP; `closed` resolves when its socket goes (the broker was killed). */
async function stompClient(port: number): Promise<{ client: Client; closed: Promise<void> }> {
  const client = new Client({
    webSocketFactory: () => new TCPWrapper('127.0.0.1', port),
    reconnectDelay: 0,
    heartbeatIncoming: 0,
    heartbeatOutgoing: 0,
  })
  let onClose: () => void = () => {}
  const closed = new Promise<void>((resolve) => {
    onClose = resolve
  })
  await new Promise<void>((resolve, reject) => {
    client.onConnect = () => resolve()
    client.onStompError = (frame) => reject(new Error(`ERROR ${frame.headers.message}`))
    client.onWebSocketClose = () => {
      onClose()
      reject(new Error('socket closed'))
    }
    client.activate()
  })
  return { client, closed }
}

const stomp: Workload = {
  name: 'stomp',
  flags: (port) => ['--stomp-port', String(port)],
  async produce(port, cycle, acked, stop) {
    const { client, closed } = await stompClient(port)
    const gone = closed.then(() => {
      throw new Error('socket closed')
    })
    gone.catch(() => {})
    try {
      for (let n = 0; !stop.aborted; n++) {
        const id = `${cycle}-${n}`
        const receipt = `r-${id}`
        const received = new Promise<void>((resolve) => client.watchForReceipt(receipt, () => resolve()))
        client.publish({ destination: '/queue/kill', body: id, headers: { receipt, persistent: 'true' } })
        await Promise.race([received, gone])
        acked.add(id)
      }
    } finally {
      await client.deactivate({ force: true }).catch(() => {})
    }
  },
  async drain(port) {
    const { client } = await stompClient(port)
    const found: string[] = []
    client.subscribe('/queue/kill', (message) => found.push(message.body))
    // Queued messages flow after SUBSCRIBE; done when nothing new arrives for a while.
    let seen = -1
    while (seen !== found.length) {
      seen = found.length
      await sleep(1000)
    }
    await client.deactivate()
    return found
  },
}

/** A rhea connection (anonymous on loopback); `closed` resolves when its socket goes (the broker was killed). */
async function rheaConnection(port: number): Promise<{ connection: rhea.Connection; closed: Promise<void> }> {
  const connection = rhea.create_container().connect({ host: '127.0.0.1', port, reconnect: false })
  connection.on('error', () => {})
  const closed = new Promise<void>((resolve) => connection.once('disconnected', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    connection.once('connection_open', () => resolve())
    void closed.then(() => reject(new Error('socket closed')))
  })
  return { connection, closed }
}

/** AMQP 1.0 over the AMQP port: unsettled transfers, acknowledged by the broker's accepted disposition. */
const amqp10: Workload = {
  name: 'amqp10',
  flags: (port) => ['--amqp-port', String(port)],
  async produce(port, cycle, acked, stop) {
    const { connection, closed } = await rheaConnection(port)
    try {
      const sender = connection.open_sender('kill10')
      await Promise.race([new Promise((resolve) => sender.once('sendable', resolve)), closed])
      let unsettled = 0
      sender.on('accepted', (ctx) => {
        unsettled--
        acked.add(String((ctx.delivery as unknown as { id_of: string }).id_of))
      })
      sender.on('rejected', () => unsettled--)
      sender.on('released', () => unsettled--)
      let n = 0
      while (!stop.aborted && connection.is_open()) {
        // A window of 100 unsettled transfers at a time.
        while (sender.sendable() && unsettled < 100) {
          const id = `${cycle}-${n++}`
          const delivery = sender.send({ body: id })
          ;(delivery as unknown as { id_of: string }).id_of = id
          unsettled++
        }
        await Promise.race([sleep(5), closed])
      }
    } finally {
      connection.close()
    }
  },
  async drain(port) {
    const { connection } = await rheaConnection(port)
    const found: string[] = []
    connection.open_receiver({ source: 'kill10', credit_window: 500 }).on('message', (ctx) => {
      const body = ctx.message!.body
      found.push(typeof body === 'string' ? body : Buffer.from(body.content ?? body).toString())
    })
    let seen = -1
    while (seen !== found.length) {
      seen = found.length
      await sleep(1000)
    }
    connection.close()
    return found
  },
}

for (const workload of [kafka, amqpWorkload, mqttWorkload, sqs, stomp, amqp10]) {
  test(`${workload.name} kill loop: ${cycles} SIGKILL cycles under load, no acknowledged message lost or stored twice`, {
    timeout: cycles * 30_000 + 120_000,
  }, async () => {
    const { acked, found } = await killLoop(workload)
    assert.ok(acked > 0, `${workload.name}: something was acknowledged`)
    // The summary line the long mode is read for.
    console.log(
      `# kill-loop ${workload.name}: ${cycles} cycles, ${acked} acknowledged, ${found} found, 0 lost, 0 duplicates`,
    )
  })
}
