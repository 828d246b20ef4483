// Topic bindings full of '#' against long routing keys, through amqplib and mqtt.js against a spawned
// wharf: matching must stay linear in the key (a backtracking matcher tries every split of the key among
// the '#'s, which for ten of them over sixty words never finishes and stalls every listener), too many
// '#' in one binding key is refused with 406, and such a binding stored under a higher cap still loads.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import amqp from 'amqplib'
import mqtt from 'mqtt'
import { startSpawned } from '../../fixtures/spawned-wharf.ts'

/** Generous: routing here takes milliseconds; a backtracking matcher takes hours. */
const hangMs = 30_000
/** The test timeouts also cover starting a broker, which takes seconds on a loaded machine. */
const startMs = 60_000
const words = Array.from({ length: 60 }, (_, i) => `w${i}`)
const longKey = words.join('.')
const hashes = (n: number) => Array.from({ length: n }, () => '#').join('.')

/** Closes a client without waiting for a broker that may not answer (the hang these tests detect). */
function closeSoon(close: () => Promise<unknown>): Promise<unknown> {
  return Promise.race([close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 2000).unref())])
}

async function received(channel: amqp.Channel, queue: string): Promise<string[]> {
  const out: string[] = []
  for (;;) {
    const message = await channel.get(queue, { noAck: true })
    if (message === false) return out
    out.push(message.content.toString())
  }
}

test('ten-# bindings route a 60-word key from AMQP and MQTT publishers without stalling', {
  timeout: startMs + hangMs,
}, async (t) => {
  const { ports } = await startSpawned(t, ['amqp', 'mqtt'])
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`)
  t.after(() => closeSoon(() => connection.close()))
  const channel = await connection.createConfirmChannel()
  const bindings: Record<string, string> = {
    all: hashes(10),
    spread: `#.w3.#.#.w20.#.#.w41.#.#.w59.#`,
    tail: `${hashes(9)}.w59`,
    miss: `${hashes(9)}.nowhere`,
    missEarly: `#.w59.#.#.#.#.#.#.#.w0`,
  }
  for (const [queue, key] of Object.entries(bindings)) {
    await channel.assertQueue(queue, { durable: false })
    await channel.bindQueue(queue, 'amq.topic', key)
  }
  channel.publish('amq.topic', longKey, Buffer.from('from amqp'))
  await channel.waitForConfirms()

  // RabbitMQ's MQTT convention: topic w0/w1/... is routing key w0.w1... on amq.topic.
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.mqtt}`, { reconnectPeriod: 0 })
  t.after(() => closeSoon(() => client.endAsync(true)))
  await client.publishAsync(words.join('/'), 'from mqtt', { qos: 1 })

  const get = await connection.createChannel()
  for (const queue of ['all', 'spread', 'tail'])
    assert.deepEqual(await received(get, queue), ['from amqp', 'from mqtt'], `queue ${queue}`)
  for (const queue of ['miss', 'missEarly']) assert.deepEqual(await received(get, queue), [], `queue ${queue}`)
})

test('a binding key with more # than topicWildcardsMax is refused with 406; the connection lives on', {
  timeout: startMs + hangMs,
}, async (t) => {
  const { ports } = await startSpawned(t, ['amqp'], { args: ['--topic-wildcards-max', '4'] })
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${ports.amqp}`)
  t.after(() => closeSoon(() => connection.close()))
  const channel = await connection.createChannel()
  channel.on('error', () => {})
  await channel.assertQueue('q', { durable: false })
  await channel.bindQueue('q', 'amq.topic', `${hashes(4)}.a.*.*`)
  await assert.rejects(channel.bindQueue('q', 'amq.topic', hashes(5)), /PRECONDITION_FAILED|406/)
  const again = await connection.createChannel()
  await again.checkQueue('q')
  await again.bindQueue('q', 'amq.topic', 'x.#')
})

test('a stored binding over the cap loads after a restart and routes a long key at once', {
  timeout: startMs + 2 * hangMs,
}, async (t) => {
  const first = await startSpawned(t, ['amqp'], { args: ['--topic-wildcards-max', '20'] })
  let connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${first.ports.amqp}`)
  let channel = await connection.createConfirmChannel()
  await channel.assertQueue('kept', { durable: true })
  await channel.bindQueue('kept', 'amq.topic', hashes(15))
  await connection.close()
  await first.stop()

  const second = await startSpawned(t, ['amqp'], { dataDir: first.dataDir })
  connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${second.ports.amqp}`)
  t.after(() => closeSoon(() => connection.close()))
  channel = await connection.createConfirmChannel()
  channel.publish('amq.topic', longKey, Buffer.from('after restart'))
  await channel.waitForConfirms()
  assert.deepEqual(await received(channel, 'kept'), ['after restart'])
  assert.match(second.wharf.output(), /stored binding exceeds a limit/)
  channel.on('error', () => {})
  await assert.rejects(channel.bindQueue('kept', 'amq.topic', hashes(11)), /PRECONDITION_FAILED|406/)
})
