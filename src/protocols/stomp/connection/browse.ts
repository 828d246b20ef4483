// Queue browsers (`browser:true` on SUBSCRIBE, as ActiveMQ): the messages the queue holds now, sent as MESSAGE
// frames without leasing them (they stay in the queue, nothing is to be acknowledged), then one last MESSAGE
// with `browser:end` and an empty body, after which the subscription delivers nothing more. Pages are read
// from the broker one at a time and the next one only once the socket took the last, so a large queue costs
// bounded memory.
import type { HeaderList } from '../wire/encode.js'
import { messageHeaders } from '../wire/message.js'
import type { ConnectionCore } from './context.js'

/** Messages per browse page. */
const PAGE_MAX = 100

/** Browses `queue` for subscription `id`; `live()` turns false when the subscription or connection ends. */
export async function browseQueue(
  c: ConnectionCore,
  id: string,
  queue: string,
  shown: string,
  live: () => boolean,
): Promise<void> {
  let from: number[] | undefined
  let seq = 0
  const traffic = c.host.traffic
  for (;;) {
    const page = await c.broker.browse(queue, from === undefined ? { max: PAGE_MAX } : { from, max: PAGE_MAX })
    if (!live()) return
    for (const m of page.messages) {
      const headers: HeaderList = [
        ['subscription', id],
        ['message-id', `${c.id}-browse-${id}-${++seq}`],
        ['destination', shown],
      ]
      messageHeaders(m, headers)
      traffic.messagesDelivered++
      traffic.bytesDelivered += m.value?.length ?? 0
      c.send('MESSAGE', headers, m.value ?? undefined)
    }
    if (page.next === null) break
    from = page.next
    if (page.messages.length > 0) await new Promise<void>((resolve) => c.output.whenWritten(resolve))
    if (!live()) return
  }
  c.send('MESSAGE', [
    ['subscription', id],
    ['message-id', `${c.id}-browse-${id}-end`],
    ['destination', shown],
    ['browser', 'end'],
  ])
}
