// no-local (the `apache.org:no-local-filter:list` filter of a topic receiver): a connection's topic publishes
// carry its publisher stamp (src/broker/jms/no-local.ts), and its no-local receivers settle those unseen.
import type { Broker } from '../../broker/broker.js'
import { publishedBy, publisherHeader } from '../../broker/jms/jms.js'
import type { RecordHeader } from '../../broker/message.js'
import type { Delivery } from '../../broker/queue/types.js'
import type { SessionHost } from './context.js'
import type { OutgoingLink } from './outgoing.js'

const publishers = new WeakMap<SessionHost, RecordHeader>()

/** The connection's publisher stamp, built once. */
export function publisherOf(c: SessionHost): RecordHeader {
  let header = publishers.get(c)
  if (header === undefined) {
    header = publisherHeader(c.id)
    publishers.set(c, header)
  }
  return header
}

/** The deliveries a no-local link may see; its own connection's are settled unseen and their credit given back. */
export function dropLocal(broker: Broker, link: OutgoingLink, stamp: RecordHeader, deliveries: Delivery[]): Delivery[] {
  if (!deliveries.some((d) => publishedBy(d.message, stamp))) return deliveries
  const kept: Delivery[] = []
  for (const d of deliveries) {
    if (!publishedBy(d.message, stamp)) {
      kept.push(d)
      continue
    }
    broker.deliveries.settle(d)
    link.creditGroup.release()
  }
  return kept
}
