// amqplib against the brokers of a test cluster.
import type { TestContext } from 'node:test'
import amqp from 'amqplib'
import { type ClusterBroker, until } from '../fixtures/cluster.ts'

/** An amqplib connection to one broker as guest, closed after the test. */
export async function amqpConnect(t: TestContext, broker: ClusterBroker): Promise<amqp.ChannelModel> {
  const connection = await amqp.connect(`amqp://guest:guest@127.0.0.1:${broker.ports.amqp}`)
  t.after(() => connection.close().catch(() => {}))
  return connection
}

/** Waits until a passive declare through `connection` finds the queue; each try on a channel of its own, since a 404 closes the channel. */
export function queueKnownOn(connection: amqp.ChannelModel, queue: string): Promise<true> {
  return until(`${queue} known`, async () => {
    const channel = await connection.createChannel()
    channel.on('error', () => {})
    try {
      await channel.checkQueue(queue)
      await channel.close()
      return true
    } catch {
      return undefined
    }
  })
}
