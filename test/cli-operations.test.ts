// The wharf CLI's operator verbs as child processes against a Wharf started here, checked with real clients:
// exchanges and bind/unbind (amqplib publishes through them), groups with a kafkajs consumer (describe with
// members and lag, reset refused while it is active, reset and delete after), connections list and close
// (amqplib sees the close), and metadata against kcat -L.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'
import amqp from 'amqplib'
import { Kafka, logLevel } from 'kafkajs'
import { rest, runCli, startCliBroker } from './fixtures/cli-broker.ts'

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

test('exchanges create, bind, bindings list, unbind and delete route what amqplib publishes', async (t) => {
  const { url, port } = await startCliBroker(t)
  await rest(url, 'POST', '/queues', { name: 'audit' })
  const created = await runCli(['exchanges', 'create', 'logs', '--type', 'topic', '--url', url])
  assert.equal(created.code, 0, created.stderr)
  const bound = await runCli(['bind', 'logs', 'audit', '--key', 'app.#', '--url', url])
  assert.equal(bound.code, 0, bound.stderr)
  const list = await runCli(['bindings', 'list', '--json', '--url', url])
  const bindings = JSON.parse(list.stdout)
  assert.ok(
    bindings.some(
      (b: { source: string; key: string; destination: { name: string } }) =>
        b.source === 'logs' && b.key === 'app.#' && b.destination.name === 'audit',
    ),
  )

  const connection = await amqp.connect(`amqp://127.0.0.1:${port('amqp')}`)
  t.after(() => connection.close().catch(() => {}))
  const channel = await connection.createConfirmChannel()
  channel.publish('logs', 'app.start', Buffer.from('one'))
  await channel.waitForConfirms()
  assert.equal((await rest(url, 'GET', '/queues/audit')).ready, 1, 'routed through the binding')

  const unbound = await runCli(['unbind', 'logs', 'audit', '--key', 'app.#', '--url', url])
  assert.equal(unbound.code, 0, unbound.stderr)
  channel.publish('logs', 'app.stop', Buffer.from('two'))
  await channel.waitForConfirms()
  assert.equal((await rest(url, 'GET', '/queues/audit')).ready, 1, 'no longer routed')

  const removed = await runCli(['exchanges', 'delete', 'logs', '--url', url])
  assert.equal(removed.code, 0, removed.stderr)
  const names = (await rest(url, 'GET', '/exchanges')).items.map((e: { name: string }) => e.name)
  assert.ok(!names.includes('logs'))
})

test('groups describe shows kafkajs members and lag; reset is refused while active, then works; delete', async (t) => {
  const { url, port } = await startCliBroker(t)
  await rest(url, 'POST', '/streams', { name: 'orders', partitions: 2 })
  for (const partition of [0, 1])
    await rest(url, 'POST', '/streams/orders/messages', {
      encoding: 'text',
      messages: [
        { value: 'a', partition },
        { value: 'b', partition },
      ],
    })
  const kafka = new Kafka({ brokers: [`127.0.0.1:${port('kafka')}`], clientId: 'cli-test', logLevel: logLevel.NOTHING })
  const consumer = kafka.consumer({ groupId: 'billing' })
  t.after(() => consumer.disconnect().catch(() => {}))
  await consumer.connect()
  await consumer.subscribe({ topic: 'orders', fromBeginning: true })
  let seen = 0
  await consumer.run({
    eachMessage: async () => {
      seen++
    },
  })
  await waitFor('the consumer to commit all 4', async () => {
    const g = await rest(url, 'GET', '/groups/billing')
    return seen === 4 && g.partitions.length === 2 && g.lag === 0
  })

  const described = await runCli(['groups', 'describe', 'billing', '--json', '--url', url])
  assert.equal(described.code, 0, described.stderr)
  const group = JSON.parse(described.stdout)
  assert.equal(group.state, 'Stable')
  assert.equal(group.memberDetails.length, 1)
  assert.equal(group.memberDetails[0].clientId, 'cli-test')
  assert.deepEqual(group.memberDetails[0].assignment, [{ stream: 'orders', partitions: [0, 1] }])
  assert.ok(group.partitions.every((p: { memberId: string }) => p.memberId === group.memberDetails[0].memberId))
  const text = await runCli(['groups', 'describe', 'billing', '--url', url])
  assert.match(text.stdout, /TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG\s+CLIENT-ID/)
  assert.match(text.stdout, /orders\s+1\s+2\s+2\s+0\s+cli-test/)

  const refused = await runCli(['groups', 'reset', 'billing', '--topic', 'orders', '--to-earliest', '--url', url])
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, /active members/)

  const joined = await runCli(['consume', 'orders', '--group', 'billing', '--url', url])
  assert.equal(joined.code, 1)
  assert.equal(joined.stdout, '', 'refused before printing anything')
  assert.match(joined.stderr, /billing has 1 active member/)

  await consumer.disconnect()
  const reset = await runCli(['groups', 'reset', 'billing', '--topic', 'orders', '--to-earliest', '--url', url])
  assert.equal(reset.code, 0, reset.stderr)
  const one = await runCli([
    'groups',
    'reset',
    'billing',
    '-t',
    'orders',
    '--to-offset',
    '1',
    '--partition',
    '1',
    '--url',
    url,
  ])
  assert.equal(one.code, 0, one.stderr)
  const list = await runCli(['groups', 'list', '--url', url])
  assert.match(list.stdout, /^billing\tstate=Empty\tmembers=0\tlag=3$/m)

  const deleted = await runCli(['groups', 'delete', 'billing', '--url', url])
  assert.equal(deleted.code, 0, deleted.stderr)
  assert.equal((await rest(url, 'GET', '/groups')).total, 0)
})

test('connections list shows an amqplib connection; close ends it with a protocol close', async (t) => {
  const { url, port } = await startCliBroker(t)
  const connection = await amqp.connect(`amqp://127.0.0.1:${port('amqp')}`, {
    clientProperties: { connection_name: 'cli-test-conn' },
  })
  const closed = new Promise<Error | undefined>((resolve) => connection.on('close', resolve))
  connection.on('error', () => {})
  const list = await runCli(['connections', 'list', '--protocol', 'amqp', '--json', '--url', url])
  assert.equal(list.code, 0, list.stderr)
  const items = JSON.parse(list.stdout)
  assert.equal(items.length, 1)
  const lines = await runCli(['connections', 'list', '--url', url])
  assert.match(lines.stdout, new RegExp(`^${items[0].id}\\tamqp\\t127\\.0\\.0\\.1:\\d+\\t`, 'm'))

  const close = await runCli(['connections', 'close', items[0].id, '--url', url])
  assert.equal(close.code, 0, close.stderr)
  const error = await closed
  assert.match(String(error), /320|CONNECTION_FORCED/)
})

test('metadata agrees with kcat -L on brokers, topics, partitions and leaders, and adds watermarks', async (t) => {
  const { url, port } = await startCliBroker(t)
  await rest(url, 'POST', '/streams', { name: 'alpha', partitions: 3 })
  await rest(url, 'POST', '/streams', { name: 'beta' })
  await rest(url, 'POST', '/streams/alpha/messages', { encoding: 'text', messages: [{ value: 'x', partition: 2 }] })
  const run = await runCli(['metadata', '--json', '--url', url])
  assert.equal(run.code, 0, run.stderr)
  const ours = JSON.parse(run.stdout)
  const { stdout } = await promisify(execFile)('kcat', ['-L', '-J', '-b', `127.0.0.1:${port('kafka')}`])
  const theirs = JSON.parse(stdout)
  assert.deepEqual(
    ours.brokers.map((b: { nodeId: number }) => b.nodeId),
    theirs.brokers.map((b: { id: number }) => b.id),
  )
  assert.ok(ours.brokers[0].urls.includes(`kafka://127.0.0.1:${port('kafka')}`))
  const shape = (topics: Array<{ name?: string; topic?: string; partitions: Array<Record<string, number>> }>) =>
    topics
      .map((x) => ({
        name: x.name ?? x.topic,
        partitions: x.partitions.map((p) => `${p.partition}:${p.leader}`),
      }))
      .filter((x) => x.name === 'alpha' || x.name === 'beta')
      .sort((a, b) => String(a.name).localeCompare(String(b.name)))
  assert.deepEqual(shape(ours.topics), shape(theirs.topics))
  const alpha = ours.topics.find((x: { name: string }) => x.name === 'alpha')
  assert.deepEqual(
    alpha.partitions.map((p: { high: number }) => p.high),
    [0, 0, 1],
  )
  const text = await runCli(['metadata', '--url', url])
  assert.match(text.stdout, /topic "alpha" with 3 partition\(s\):\n\s+partition 0, leader 0, replicas: 0, isrs: 0/)
})
