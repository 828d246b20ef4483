// Runnable example of the embedded API: node examples/embedded.mjs  (after npm ci, which builds dist/)
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBroker } from 'wharf-broker'

const dataDir = mkdtempSync(join(tmpdir(), 'wharf-example-'))
const broker = await createBroker({ dataDir })

// A work queue with a dead-letter queue: competing consumers, acks, redelivery.
await broker.createQueue('emails.dead')
const emails = await broker.createQueue('emails', { maxDeliveries: 3, deadLetter: { queue: 'emails.dead' } })
await broker.sendToQueue('emails', [{ value: 'welcome alice' }, { value: 'welcome bob' }])
const done = new Promise((resolve) => {
  let handled = 0
  broker.consume('emails', {
    owner: 'worker-1',
    prefetch: 10,
    onDeliver: async (deliveries) => {
      for (const d of deliveries) {
        console.log(`queue: ${d.message.value} (delivery ${d.deliveryCount})`)
        await emails.ack(d.partition, d.offset) // resolves once the ack is durable
        if (++handled === 2) resolve()
      }
    },
  })
})
await done

// An event log: keyed records land on Kafka's partition, replay from any offset.
await broker.createStream('orders', { partitions: 3 })
const [position] = await broker.produce('orders', [{ key: 'customer-42', value: JSON.stringify({ total: 9.5 }) }])
const { messages } = await broker.readMessages('orders', position.partition, 0)
console.log(`log: partition ${position.partition} offset ${messages[0].offset}: ${messages[0].value}`)
await broker.commitOffset('billing', 'orders', position.partition, position.offset + 1)

// Pub/sub through an exchange.
await broker.declareExchange({ name: 'events', type: 'topic' })
await broker.createQueue('audit')
await broker.bind({ source: 'events', destination: { kind: 'queue', name: 'audit' }, key: 'order.*', arguments: {} })
const { routed } = await broker.publish('events', 'order.created', { value: 'order 1' })
console.log(`exchange: routed to ${routed} queue(s)`)

await broker.close()
rmSync(dataDir, { recursive: true, force: true })
