// The clients that have no redirect (amqplib with confirms, mqtt.js QoS 1 with a persistent session, the AWS SDK
// for SQS) keep working while the broker serving their queue fails. Three brokers over one PostgreSQL with a 3 s
// lease; for each client, the queue's server (the owner of its stream's first log) is SIGKILLed, or SIGSTOPped
// past its lease and then SIGCONTed, while a producer on a second broker and a consumer on the third keep going
// (by default each client through one of the two faults, alternating; WHARF_LONG=1 runs both for each).
// "Acknowledged" is the client's own: amqplib's confirm, mqtt.js's PUBACK, the SDK's SendMessage 200. Every
// acknowledged id must be consumed afterwards; ids consumed twice (redelivered after the move) are counted,
// not failed. The whole cluster SIGKILLed and restarted: every acknowledged id of every client is still there.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs'
import amqp from 'amqplib'
import mqtt from 'mqtt'
import { type Cluster, type ClusterBroker, settledOwner, startCluster, streamOwner } from '../fixtures/cluster.ts'
import { sleep } from './kafka-helpers.ts'

const LEASE_MS = 3000
/** Acknowledged sends before the fault, and after it (and after SIGCONT) before the producer stops. */
const BEFORE = 40
const AFTER = 40

interface Producer {
  /** Resolves when the broker acknowledged the id; rejects when it refused or the connection failed. */
  send(id: string): Promise<void>
  close(): Promise<void>
}

interface Consumer {
  close(): Promise<void>
}

interface Workload {
  readonly name: string
  /** Whether publishes reach the queue through a binding (which each broker must know before it routes them). */
  readonly bound: boolean
  /** Resolves once `at` has what else the client needs from the shared catalog (an MQTT session's record). */
  known?(at: ClusterBroker, name: string): Promise<void>
  /** Creates the durable destination through `at`; returns what tells its queue's name. */
  setup(at: ClusterBroker, name: string): Promise<(queue: string) => boolean>
  producer(at: ClusterBroker, name: string): Promise<Producer>
  /** Consumes and acknowledges, counting each id in `seen`; reconnects by itself after a lost connection. */
  consumer(at: ClusterBroker, name: string, seen: Map<string, number>): Promise<Consumer>
}

const amqpUrl = (broker: ClusterBroker) => `amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`

const amqplib: Workload = {
  name: 'amqplib (confirms)',
  bound: false,
  async setup(at, name) {
    const connection = await amqp.connect(amqpUrl(at))
    await (await connection.createChannel()).assertQueue(name, { durable: true })
    await connection.close()
    return (queue) => queue === name
  },
  async producer(at, name) {
    let channel: amqp.ConfirmChannel | undefined
    let connection: amqp.ChannelModel | undefined
    const open = async () => {
      connection = await amqp.connect(amqpUrl(at))
      connection.on('error', () => {})
      channel = await connection.createConfirmChannel()
      channel.on('error', () => {})
      connection.on('close', () => {
        channel = undefined
      })
    }
    return {
      async send(id) {
        if (channel === undefined) await open()
        await new Promise<void>((resolve, reject) =>
          channel!.sendToQueue(name, Buffer.from(id), { persistent: true }, (error) =>
            error ? reject(error) : resolve(),
          ),
        )
      },
      async close() {
        await channel?.close().catch(() => {})
        await connection?.close().catch(() => {})
      },
    }
  },
  async consumer(at, name, seen) {
    let stopped = false
    let connection: amqp.ChannelModel | undefined
    let channel: amqp.Channel | undefined
    const run = async () => {
      while (!stopped) {
        try {
          connection = await amqp.connect(amqpUrl(at))
          connection.on('error', () => {})
          channel = await connection.createChannel()
          await channel.prefetch(20)
          await channel.consume(name, (message) => {
            if (message === null) return
            count(seen, message.content.toString())
            channel!.ack(message)
          })
          await new Promise((resolve) => connection!.once('close', resolve))
        } catch {
          await sleep(200)
        }
      }
    }
    void run()
    return {
      async close() {
        stopped = true
        // The channel first: a connection close would overtake the last acks amqplib has not written yet.
        await channel?.close().catch(() => {})
        await connection?.close().catch(() => {})
      },
    }
  },
}

const mqttUrl = (broker: ClusterBroker) => `mqtt://127.0.0.1:${broker.ports.mqtt}`

const mqttjs: Workload = {
  name: 'mqtt.js (QoS 1, persistent session)',
  bound: true,
  // A broker the client resumes its session through takes the session from its copy of the catalog: one that
  // has not yet heard of the subscription would resume the session without it.
  async known(at, name) {
    for (let tries = 0; ; tries++) {
      const response = await fetch(`http://127.0.0.1:${at.ports.http}/api/v1/mqtt/sessions`)
      const body = (await response.json()) as { items: Array<{ clientId: string; subscriptions: unknown[] }> }
      if (body.items.some((s) => s.clientId === `${name}-sub` && s.subscriptions.length > 0)) return
      assert.ok(tries < 100, `broker ${at.nodeId} never had the session of ${name}-sub with its subscription`)
      await sleep(100)
    }
  },
  async setup(at, name) {
    // The subscriber's session queue is durable, in the shared catalog: it is served by its owner.
    const client = await mqtt.connectAsync(mqttUrl(at), { clientId: `${name}-sub`, clean: false, reconnectPeriod: 0 })
    await client.subscribeAsync(`${name}/#`, { qos: 1 })
    await client.endAsync()
    return (queue) => queue.includes(`${name}-sub`)
  },
  async producer(at, name) {
    let client: mqtt.MqttClient | undefined
    return {
      async send(id) {
        if (client === undefined || !client.connected) {
          client?.end(true)
          client = await mqtt.connectAsync(mqttUrl(at), { clientId: `${name}-pub`, clean: true, reconnectPeriod: 0 })
          client.on('error', () => {})
        }
        const publishing = client
        await withTimeout(publishing.publishAsync(`${name}/x`, id, { qos: 1 }), 30_000, () => publishing.end(true))
      },
      async close() {
        await client?.endAsync().catch(() => {})
      },
    }
  },
  async consumer(at, name, seen) {
    const client = mqtt.connect(mqttUrl(at), { clientId: `${name}-sub`, clean: false, reconnectPeriod: 500 })
    client.on('error', () => {})
    // Listening before CONNACK: a resumed session's queued messages can arrive in the same read as the CONNACK,
    // before connectAsync's promise would let a handler be attached (mqtt.js acknowledges them either way).
    // mqtt.js sends the PUBACK once this handler returned.
    client.on('message', (_topic, payload) => count(seen, payload.toString()))
    await new Promise((resolve) => client.once('connect', resolve))
    return { close: () => client.endAsync() }
  },
}

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }
const sqsClient = (at: ClusterBroker) =>
  new SQSClient({ endpoint: `http://127.0.0.1:${at.ports.http}`, region: 'us-east-1', credentials, maxAttempts: 10 })
const queueUrl = (at: ClusterBroker, name: string) => `http://127.0.0.1:${at.ports.http}/000000000000/${name}`

const awsSdk: Workload = {
  name: 'AWS SDK (SQS)',
  bound: false,
  async setup(at, name) {
    const client = sqsClient(at)
    await client.send(new CreateQueueCommand({ QueueName: name }))
    client.destroy()
    return (queue) => queue === name
  },
  async producer(at, name) {
    const client = sqsClient(at)
    return {
      async send(id) {
        const answer = await client.send(new SendMessageCommand({ QueueUrl: queueUrl(at, name), MessageBody: id }))
        assert.ok(answer.MessageId)
      },
      async close() {
        client.destroy()
      },
    }
  },
  async consumer(at, name, seen) {
    const client = sqsClient(at)
    let stopped = false
    const run = async () => {
      while (!stopped) {
        try {
          const { Messages = [] } = await client.send(
            new ReceiveMessageCommand({
              QueueUrl: queueUrl(at, name),
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
              VisibilityTimeout: 10,
            }),
          )
          for (const m of Messages) count(seen, m.Body!)
          if (Messages.length > 0)
            await client.send(
              new DeleteMessageBatchCommand({
                QueueUrl: queueUrl(at, name),
                Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
              }),
            )
        } catch {
          await sleep(200)
        }
      }
    }
    const running = run()
    return {
      async close() {
        stopped = true
        await running
        client.destroy()
      },
    }
  },
}

const WORKLOADS = [amqplib, mqttjs, awsSdk]

/** When each delivery arrived, per `seen` map (for the consumers' side of an outage). */
const arrivals = new WeakMap<Map<string, number>, number[]>()

function count(seen: Map<string, number>, id: string): void {
  seen.set(id, (seen.get(id) ?? 0) + 1)
  const times = arrivals.get(seen) ?? []
  times.push(Date.now())
  arrivals.set(seen, times)
}

/** The longest time from `since` or one delivery to the next, up to `until`. */
function longestGap(times: readonly number[], since: number, until: number): number {
  let previous = since
  let longest = 0
  for (const at of times) {
    if (at <= since || at > until) continue
    longest = Math.max(longest, at - previous)
    previous = at
  }
  return longest
}

async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout()
      reject(new Error(`no answer in ${ms} ms`))
    }, ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * The stream of the queue whose name `match` accepts, once every broker has it in its catalog (a queue made
 * through one broker reaches the others by NOTIFY within moments; SQS also asks for a second after a
 * CreateQueue before the queue is used).
 */
async function knownEverywhere(
  cluster: Cluster,
  workload: Workload,
  name: string,
  match: (queue: string) => boolean,
): Promise<string> {
  const streams = await Promise.all(cluster.brokers.map((b) => streamOf(b, match)))
  if (workload.bound) await Promise.all(cluster.brokers.map((b) => boundOn(b, match)))
  await Promise.all(cluster.brokers.map((b) => workload.known?.(b, name)))
  return streams[0]!
}

/** Waits until a broker has a binding to the queue `match` accepts. */
async function boundOn(at: ClusterBroker, match: (queue: string) => boolean): Promise<void> {
  for (let tries = 0; ; tries++) {
    const response = await fetch(`http://127.0.0.1:${at.ports.http}/api/v1/bindings`)
    const body = (await response.json()) as { items: Array<{ destination: { name?: string } }> }
    if (body.items.some((b) => b.destination.name !== undefined && match(b.destination.name))) return
    assert.ok(tries < 100, `broker ${at.nodeId} has no binding to the queue`)
    await sleep(100)
  }
}

/** The stream of the queue whose name `match` accepts, from the admin API's queue list. */
async function streamOf(at: ClusterBroker, match: (queue: string) => boolean): Promise<string> {
  for (let tries = 0; ; tries++) {
    const response = await fetch(`http://127.0.0.1:${at.ports.http}/api/v1/queues`)
    const body = (await response.json()) as { items: Array<{ name: string; stream: string }> }
    const found = body.items.find((q) => match(q.name))
    if (found !== undefined) return found.stream
    assert.ok(tries < 100, `no such queue: ${JSON.stringify(body)}`)
    await sleep(100)
  }
}

/** Sends ids one after another until stopped, recording each acknowledged one and when. */
function keepSending(producer: Producer, prefix: string) {
  const acked: Array<{ id: string; at: number }> = []
  let failed = 0
  let stopped = false
  const running = (async () => {
    for (let i = 0; !stopped; i++) {
      const id = `${prefix}-${i}`
      try {
        await producer.send(id)
        acked.push({ id, at: Date.now() })
      } catch {
        failed++
        await sleep(100)
      }
    }
  })()
  return {
    acked,
    get failed() {
      return failed
    },
    ackedSince: (since: number) => acked.filter((a) => a.at > since).length,
    /** The longest time from `since` or one acknowledgement to the next (the outage a fault caused). */
    longestWaitSince: (since: number) =>
      longestGap(
        acked.map((a) => a.at),
        since,
        Number.POSITIVE_INFINITY,
      ),
    async stop() {
      stopped = true
      await running
    },
  }
}

async function until(what: string | (() => string), probe: () => boolean, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!probe()) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${typeof what === 'string' ? what : what()}`)
    await sleep(100)
  }
}

type Fault = 'SIGKILL' | 'SIGSTOP'

/** What each SIGSTOPped broker that did not survive its SIGCONT printed last. */
const resumedExits: string[] = []

/** One client through one fault of its queue's server; restarts a killed server so the next case has three. */

async function throughFault(cluster: Cluster, workload: Workload, fault: Fault, name: string) {
  const [first] = cluster.brokers
  const stream = await knownEverywhere(cluster, workload, name, await workload.setup(first!, name))
  const owner = await settledOwner(cluster, stream)
  const [publishAt, consumeAt] = cluster.brokers.filter((b) => b.nodeId !== owner) as [ClusterBroker, ClusterBroker]
  const victim = cluster.byNodeId(owner)
  const seen = new Map<string, number>()
  const consumer = await workload.consumer(consumeAt, name, seen)
  const producer = await workload.producer(publishAt, name)
  const sender = keepSending(producer, name)
  try {
    await until(`${BEFORE} acknowledged sends`, () => sender.acked.length >= BEFORE)
    assert.equal(await settledOwner(cluster, stream), owner, 'the queue is still served by the victim')
    if (fault === 'SIGKILL') await victim.kill()
    else victim.signal('SIGSTOP')
    // Taken once the process is gone or stopped: an answer it sent before cannot count as one after the fault.
    const faultAt = Date.now()
    // The survivors give the queue to one of them once the victim's lease ran out.
    const next = await streamOwner(publishAt, stream, owner)
    await until(`${AFTER} sends acknowledged after the ${fault}`, () => sender.ackedSince(faultAt) >= AFTER)
    const outage = sender.longestWaitSince(faultAt)
    if (fault === 'SIGSTOP') {
      // Resumed, it finds it lost the queue (its writes are fenced) and serves it no more.
      victim.signal('SIGCONT')
      const resumedAt = Date.now()
      await until(`${AFTER} sends acknowledged after the SIGCONT`, () => sender.ackedSince(resumedAt) >= AFTER)
      // Checked once for all cases (below): a resumed broker that exited is recorded and started again, so the
      // cases after it still run on three brokers.
      if (!victim.alive) resumedExits.push(`${workload.name}: broker ${owner}: ${victim.wharf.output().slice(-1500)}`)
    }
    await sender.stop()
    const stoppedAt = Date.now()
    await until(
      () => {
        const missing = sender.acked.filter((a) => !seen.has(a.id)).map((a) => a.id)
        return `every acknowledged id consumed: ${missing.length} of ${sender.acked.length} missing, e.g. ${missing.slice(0, 8)}`
      },
      () => sender.acked.every((a) => seen.has(a.id)),
    )
    const twice = [...seen.values()].filter((n) => n > 1).length
    const unknown = [...seen.keys()].filter((id) => !id.startsWith(`${name}-`))
    assert.deepEqual(unknown, [], 'only this case’s ids')
    console.log(
      `${workload.name}, ${fault} of broker ${owner} (queue moved to ${next}): longest wait for an acknowledgement after the fault ${outage} ms; ` +
        `longest wait for a delivery ${longestGap(arrivals.get(seen) ?? [], faultAt, stoppedAt)} ms; ` +
        `${sender.acked.length} acknowledged, ${sender.failed} failed sends retried, ${twice} ids consumed twice`,
    )
  } finally {
    await sender.stop()
    await producer.close()
    await consumer.close()
    if (fault === 'SIGKILL' || !victim.alive) await victim.restart()
  }
}

test('clients without a redirect keep working through a fault of the broker serving their queue', {
  timeout: 900_000,
}, async (t) => {
  const cluster = await startCluster(t, {
    brokers: 3,
    listeners: ['amqp', 'mqtt', 'http'],
    leaseMs: LEASE_MS,
    heartbeatMs: 1000,
  })
  if (cluster === undefined) return
  // WHARF_QUEUE_FAULTS=text runs only the cases whose name contains it (e.g. "mqtt.js (QoS 1, persistent session): SIGKILL").
  const only = process.env.WHARF_QUEUE_FAULTS
  // By default each client goes through one fault (alternating, so both kinds run); WHARF_LONG=1 runs both each.
  const every = process.env.WHARF_LONG === '1' || only !== undefined
  for (const [i, workload] of WORKLOADS.entries()) {
    for (const fault of ['SIGKILL', 'SIGSTOP'] as const) {
      if (!every && fault !== (i % 2 === 0 ? 'SIGSTOP' : 'SIGKILL')) continue
      if (only !== undefined && !`${workload.name}: ${fault}`.includes(only)) continue
      const name = `${workload.name.split(' ')[0]!.replace(/\W/g, '')}-${fault.toLowerCase()}`
      await t.test(`${workload.name}: ${fault} of the queue's server`, () =>
        throughFault(cluster, workload, fault, name),
      )
    }
  }

  // A broker stopped mid-transaction past the database's idle-in-transaction limit finds its session ended when
  // it resumes; that once surfaced as an uncaught pg 'error' event and the process exited. Checked once for all
  // cases, so an exit (its output is in the failure) does not also fail every case after it.
  await t.test('every SIGSTOPped broker keeps running after its SIGCONT', () => {
    assert.deepEqual(resumedExits, [])
  })

  if (only !== undefined && !'restart'.includes(only)) return
  const [a, b, c] = cluster.brokers as [ClusterBroker, ClusterBroker, ClusterBroker]
  const acked = new Map<Workload, string[]>()
  const restartName = (workload: Workload) => `${workload.name.split(' ')[0]!.replace(/\W/g, '')}-restart`
  await t.test('the whole cluster SIGKILLed with acknowledged messages of every client waiting', async () => {
    for (const workload of WORKLOADS) {
      const name = restartName(workload)
      await knownEverywhere(cluster, workload, name, await workload.setup(a, name))
      // The consumer's session (MQTT) exists before anything is published; nothing is consumed yet.
      if (workload === mqttjs) await (await workload.consumer(c, name, new Map())).close()
      const producer = await workload.producer(b, name)
      const ids = Array.from({ length: 30 }, (_, i) => `${name}-${i}`)
      for (const id of ids) await producer.send(id)
      await producer.close()
      acked.set(workload, ids)
    }
    await Promise.all(cluster.brokers.map((broker) => broker.kill()))
    for (const broker of cluster.brokers) await broker.restart()
  })
  for (const workload of WORKLOADS) {
    await t.test(`${workload.name}: every id acknowledged before the restart is consumed after it`, async () => {
      const ids = acked.get(workload)
      assert.ok(ids !== undefined, 'published before the restart')
      const seen = new Map<string, number>()
      const consumer = await workload.consumer(c, restartName(workload), seen)
      try {
        await until(`${workload.name}: every id acknowledged before the restart`, () => ids.every((id) => seen.has(id)))
      } finally {
        await consumer.close()
      }
    })
  }
})
