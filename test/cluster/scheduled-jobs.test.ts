// ActiveMQ-style scheduled jobs (STOMP AMQ_SCHEDULED_DELAY/PERIOD/REPEAT, stompjs) on two brokers over one
// PostgreSQL: a job is delivered exactly as scheduled whichever broker stored it, when that broker is SIGKILLed
// before the job is due, and across a restart of the whole cluster (each broker loads every job, and only one
// delivers them).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { type ClusterBroker, startCluster } from '../fixtures/cluster.ts'
import { collector, sendWithReceipt, stompjs } from '../protocols/stomp/helpers.ts'
import { sleep } from './kafka-helpers.ts'

/** Three copies: the first after delayMs, then two more 300 ms apart. */
const job = (delayMs: number) => ({
  AMQ_SCHEDULED_DELAY: String(delayMs),
  AMQ_SCHEDULED_PERIOD: '300',
  AMQ_SCHEDULED_REPEAT: '2',
})

test('a scheduled job is delivered once per copy whichever broker stored it, after its death and a restart', {
  timeout: 240_000,
}, async (t) => {
  const cluster = await startCluster(t, { brokers: 2, listeners: ['stomp'], leaseMs: 3000, heartbeatMs: 500 })
  if (cluster === undefined) return
  const [first, second] = cluster.brokers as [ClusterBroker, ClusterBroker]
  const stompOn = (broker: ClusterBroker) => stompjs(t, { port: broker.ports.stomp! })

  // Stored through each broker in turn, which is then SIGKILLed before the job is due.
  for (const [storer, survivor] of [
    [second, first],
    [first, second],
  ] as const) {
    const queue = `/queue/after-kill-${storer.nodeId}`
    const got = collector()
    ;(await stompOn(survivor)).subscribe(queue, got.onMessage)
    await sleep(300)
    await sendWithReceipt(await stompOn(storer), queue, 'tick', job(2000))
    await storer.kill()
    await got.next(3, 30_000)
    await sleep(1500)
    assert.equal(got.messages.length, 3, `copies of the job broker ${storer.nodeId} stored`)
    await storer.restart()
  }

  // Both brokers load the job at start; the copies are still made once each.
  const queue = '/queue/after-restart'
  await sendWithReceipt(await stompOn(first), queue, 'tick', job(20_000))
  await Promise.all(cluster.brokers.map((broker) => broker.kill()))
  for (const broker of cluster.brokers) await broker.restart()
  const got = collector()
  ;(await stompOn(second)).subscribe(queue, got.onMessage)
  await got.next(3, 60_000)
  await sleep(1500)
  assert.equal(got.messages.length, 3, 'copies after the whole cluster restarted')
})
