// A JMS durable subscription over STOMP (stompjs, client-id + activemq.subscriptionName) on two brokers over one
// PostgreSQL: made through one broker, it collects what is published while its client is away, and the client
// resuming it through the other broker gets each message once.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Client } from '@stomp/stompjs'
import { type ClusterBroker, startCluster } from '../fixtures/cluster.ts'
import { collector, sendWithReceipt, stompjs } from '../protocols/stomp/helpers.ts'
import { sleep } from './kafka-helpers.ts'

function subscribeWithReceipt(client: Client, destination: string, got: ReturnType<typeof collector>): Promise<void> {
  const receipt = `sub-${Math.random()}`
  const done = new Promise<void>((resolve) => client.watchForReceipt(receipt, () => resolve()))
  client.subscribe(destination, got.onMessage, {
    ack: 'client-individual',
    'activemq.subscriptionName': 'news',
    receipt,
  })
  return done
}

test('a durable subscription made through one broker is resumed through the other with what it collected', {
  timeout: 180_000,
}, async (t) => {
  const cluster = await startCluster(t, { brokers: 2, listeners: ['stomp'] })
  if (cluster === undefined) return
  const [a, b] = cluster.brokers as [ClusterBroker, ClusterBroker]
  const app = (broker: ClusterBroker) =>
    stompjs(t, { port: broker.ports.stomp! }, { config: { connectHeaders: { 'client-id': 'app' } } })

  const first = await app(a)
  await subscribeWithReceipt(first, '/topic/news', collector())
  await first.deactivate()

  // Through the broker that made the subscription: another broker routes to it once the binding's catalog change
  // has arrived there, moments later (docs/postgres.md).
  const publisher = await stompjs(t, { port: a.ports.stomp! })
  for (let i = 0; i < 3; i++) await sendWithReceipt(publisher, '/topic/news', `n-${i}`, {})

  const got = collector()
  const second = await app(b)
  await subscribeWithReceipt(second, '/topic/news', got)
  const messages = await got.next(3, 20_000)
  for (const m of messages) m.ack()
  assert.deepEqual(
    messages.map((m) => m.body),
    ['n-0', 'n-1', 'n-2'],
  )
  await sleep(1000)
  assert.equal(got.messages.length, 3, 'each message once')
})
