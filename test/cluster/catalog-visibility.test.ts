// A change a client saw confirmed is in force on every broker of the cluster from then on, as RabbitMQ's
// cluster-wide metadata store gives it: an exchange, a queue and a binding declared through one broker route a
// publish made through the other the moment the declaring client holds its declare-ok and bind-ok, with no
// wait in between; and a subscription only the first broker holds (an exclusive queue, an MQTT clean session)
// gets a publish made through the other right after the client's bind-ok or SUBACK. A user made or deleted through
// one broker's admin API logs in, or is refused, through the other as soon as the API has answered. A member that does not
// answer (paused) holds a declare up for seconds, not for ever, and applies it once it runs again.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import amqp from 'amqplib'
import mqtt from 'mqtt'
import { type ClusterBroker, startCluster, until } from '../fixtures/cluster.ts'
import { amqpConnect, queueKnownOn } from './amqp-helpers.ts'

const ROUNDS = 10

test('a declare, bind or subscribe confirmed through one broker is in force on the other at once', {
  timeout: 180_000,
}, async (t) => {
  const cluster = await startCluster(t, { brokers: 2, listeners: ['amqp', 'mqtt', 'http'] })
  if (cluster === undefined) return
  const [a, b] = cluster.brokers as [ClusterBroker, ClusterBroker]
  const [connA, connB] = [await amqpConnect(t, a), await amqpConnect(t, b)]

  await t.test(
    'amqplib: an exchange, queue and binding declared through one broker route a publish through the other',
    async () => {
      const declare = await connA.createChannel()
      const confirm = await connB.createConfirmChannel()
      const returned: string[] = []
      confirm.on('return', (m: amqp.Message) => returned.push(m.content.toString()))
      for (let i = 0; i < ROUNDS; i++) {
        await declare.assertExchange(`fresh-x-${i}`, 'direct', { durable: true })
        await declare.assertQueue(`fresh-q-${i}`, { durable: true })
        await declare.bindQueue(`fresh-q-${i}`, `fresh-x-${i}`, 'k')
        confirm.publish(`fresh-x-${i}`, 'k', Buffer.from(`exchange-${i}`), { persistent: true, mandatory: true })
        confirm.sendToQueue(`fresh-q-${i}`, Buffer.from(`queue-${i}`), { persistent: true, mandatory: true })
        await confirm.waitForConfirms()
      }
      assert.deepEqual(returned, [], 'no publish came back unroutable')
      for (let i = 0; i < ROUNDS; i++) {
        const got: string[] = []
        await until(`both messages in fresh-q-${i}`, async () => {
          const m = await declare.get(`fresh-q-${i}`, { noAck: true })
          if (m) got.push(m.content.toString())
          return got.length === 2 ? true : undefined
        })
        assert.deepEqual(got.sort(), [`exchange-${i}`, `queue-${i}`])
      }
    },
  )

  await t.test('amqplib: an exclusive queue bound through one broker gets a publish through the other', async () => {
    const declare = await connA.createChannel()
    const publish = await connB.createConfirmChannel()
    for (let i = 0; i < ROUNDS; i++) {
      await declare.assertExchange(`live-x-${i}`, 'fanout', { durable: true })
      const { queue } = await declare.assertQueue('', { exclusive: true })
      const got: string[] = []
      await declare.consume(queue, (m) => m && got.push(m.content.toString()), { noAck: true })
      await declare.bindQueue(queue, `live-x-${i}`, '')
      publish.publish(`live-x-${i}`, '', Buffer.from(`live-${i}`))
      await publish.waitForConfirms()
      await until(`live-${i} delivered`, async () => (got.length > 0 ? true : undefined), 5000)
      assert.deepEqual(got, [`live-${i}`])
    }
  })

  await t.test(
    'a declare through one broker while the other is paused completes; the other has it once resumed',
    async () => {
      b.signal('SIGSTOP')
      try {
        const declare = await connA.createChannel()
        await declare.assertQueue('while-paused', { durable: true })
      } finally {
        b.signal('SIGCONT')
      }
      await queueKnownOn(connB, 'while-paused')
    },
  )

  await t.test('a user created through one broker logs in through the other at once; deleted, is refused', async () => {
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`http://127.0.0.1:${a.ports.http}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Basic ${Buffer.from('guest:guest').toString('base64')}`,
          'content-type': 'application/json',
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
    const login = (user: string) =>
      amqp.connect(`amqp://${user}:secret-pw@127.0.0.1:${b.ports.amqp}`).then((connection) => connection.close())
    for (let i = 0; i < ROUNDS; i++) {
      const created = await admin('POST', '/users', { name: `fresh-${i}`, password: 'secret-pw' })
      assert.equal(created.status, 201)
      await login(`fresh-${i}`)
      assert.equal((await admin('DELETE', `/users/fresh-${i}`)).status, 200)
      await assert.rejects(login(`fresh-${i}`), /ACCESS.REFUSED/)
    }
  })

  await t.test(
    'mqtt.js: a clean session subscribed through one broker gets a QoS 1 publish through the other',
    async () => {
      const subscriber = await mqtt.connectAsync(`mqtt://127.0.0.1:${a.ports.mqtt}`, {
        clientId: 'fresh-sub',
        clean: true,
      })
      const publisher = await mqtt.connectAsync(`mqtt://127.0.0.1:${b.ports.mqtt}`, {
        clientId: 'fresh-pub',
        clean: true,
      })
      try {
        const got: string[] = []
        subscriber.on('message', (_topic, payload) => got.push(payload.toString()))
        await subscriber.subscribeAsync('fresh/first', { qos: 1 })
        await publisher.publishAsync('fresh/first', 'first', { qos: 1 })
        await until('the first publish delivered', async () => (got.length > 0 ? true : undefined), 5000)
        assert.deepEqual(got, ['first'])
      } finally {
        await Promise.all([subscriber.endAsync(), publisher.endAsync()])
      }
    },
  )
})
