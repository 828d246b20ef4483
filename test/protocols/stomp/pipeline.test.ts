// A publisher that does not wait: stompjs sends a burst of receipted SENDs (one of them to a queue that does
// not exist yet, so its SEND waits for the queue while the later ones are already read), then DISCONNECT with
// a receipt. Receipts must come back in the order of the frames, each only once its message is stored: after
// a restart every receipted message is there, in order.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { collector, startWharf, stompjs } from './helpers.ts'

const BURST = 600

test('a burst of receipted SENDs gets its receipts in frame order, each message stored by then', async (t) => {
  const first = await startWharf(t, { durability: 'always' })
  const producer = await stompjs(t, first)
  const order: string[] = []
  const all: Array<Promise<void>> = []
  const send = (destination: string, body: string) => {
    const receipt = `r-${body}`
    all.push(
      new Promise((resolve) =>
        producer.watchForReceipt(receipt, () => {
          order.push(body)
          resolve()
        }),
      ),
    )
    producer.publish({ destination, body, headers: { receipt, persistent: 'true' } })
  }
  for (let i = 0; i < BURST; i++) {
    send('/queue/burst', String(i))
    if (i === BURST / 2) send('/queue/burst-new', 'new')
  }
  // DISCONNECT's receipt waits for every SEND before it; stompjs closes the socket when it comes.
  producer.disconnectHeaders = { receipt: 'bye' }
  await Promise.race([
    producer.deactivate(),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${order.length}/${BURST + 1} receipts`)), 60_000)),
  ])
  assert.equal(order.length, BURST + 1, 'every SEND receipt came before the DISCONNECT receipt')
  await Promise.all(all)
  const expected: string[] = []
  for (let i = 0; i < BURST; i++) {
    expected.push(String(i))
    if (i === BURST / 2) expected.push('new')
  }
  assert.deepEqual(order, expected, 'receipts in the order the SENDs were written')
  await first.stop()
  // Every message whose receipt came is on disk: a new broker on the same data has them, in order.
  const second = await startWharf(t, { dir: first.dir, durability: 'always' })
  const consumer = await stompjs(t, second)
  const got = collector()
  consumer.subscribe('/queue/burst', got.onMessage, { ack: 'auto' })
  const messages = await got.next(BURST, 30_000)
  assert.deepEqual(
    messages.map((m) => m.body),
    expected.filter((b) => b !== 'new'),
  )
  const other = collector()
  consumer.subscribe('/queue/burst-new', other.onMessage, { ack: 'auto' })
  assert.equal((await other.next(1, 30_000))[0]!.body, 'new')
})
