// Which subscription a topic receiver names (the "extended semantics for topic subscriptions" Qpid JMS and
// Artemis use). The link name is the subscription name; the source says the rest:
// - durable (`durable` > 0 or `expiry-policy: never`): a durable subscription, kept while nobody reads it;
// - capability `shared`: a shared subscription, whose receivers (on any connection) split its messages;
//   without durability it is volatile and goes with its last receiver;
// - capability `global`: the subscription belongs to no container (JMS shared subscriptions without a client
//   id); otherwise it is scoped by the connection's container id.
// Qpid JMS names the links of one shared subscription apart with a suffix after `|` (`sub`, `sub|2`;
// `sub|global`, `sub|global2`; `sub|volatile1`, `sub|global-volatile1`): the name is what comes before it.
// Qpid JMS unsubscribes by attaching the subscription's link name with no source, then closing the link: the
// broker answers with the stored subscription's source (storedSource), or refuses when there is none.
import type { DurableSubscriptions } from '../../broker/jms/durable.js'
import type { StoredSubscription } from '../../broker/jms/jms.js'
import type { Composite } from './codec/generated/types.js'
import { AmqpMap, Described, Typed, type Value } from './codec/values.js'
import { NO_LOCAL, SELECTOR } from './filters.js'

/** Separates a subscription name from the suffix Qpid JMS gives each of its links. */
const SUFFIX_DELIMITER = '|'

/** Where a volatile shared subscription's name is kept apart from a durable one's (JMS keeps the two apart). */
const VOLATILE_SUFFIX = '|volatile'

/** A durable or shared subscription a receiver reads (src/broker/jms/durable.ts keys it by client id + name). */
export interface SubscriptionRef {
  clientId: string | null
  name: string
  /** A non-durable shared subscription: removed when its last receiver goes. */
  volatile: boolean
}

export interface SubscriptionId {
  /** The container id that scopes it, or null for a global one. */
  clientId: string | null
  /** The name the broker's subscription registry keys it by. */
  name: string
  shared: boolean
  /** Shared and not durable: removed when its last receiver detaches. */
  volatile: boolean
}

/** The subscription a topic source names, or undefined for a plain (transient, unshared) topic receiver. */
export function subscriptionOf(
  source: Composite & { kind: 'source' },
  linkName: string,
  containerId: string,
): SubscriptionId | undefined {
  const capabilities = source.capabilities ?? []
  const shared = capabilities.includes('shared')
  const durable = source.durable > 0 || source.expiryPolicy === 'never'
  if (!shared && !durable) return undefined
  const clientId = capabilities.includes('global') ? null : containerId
  if (!shared) return { clientId, name: linkName, shared, volatile: false }
  const at = linkName.indexOf(SUFFIX_DELIMITER)
  const name = at < 0 ? linkName : linkName.slice(0, at)
  return durable
    ? { clientId, name, shared, volatile: false }
    : { clientId, name: `${name}${VOLATILE_SUFFIX}`, shared, volatile: true }
}

/** The subscription a link name names when no source comes with it (container-scoped first, then global). */
export function storedSubscription(
  lookup: (clientId: string | null, name: string) => StoredSubscription | undefined,
  linkName: string,
  containerId: string,
): StoredSubscription | undefined {
  const at = linkName.indexOf(SUFFIX_DELIMITER)
  const name = at < 0 ? linkName : linkName.slice(0, at)
  const suffix = at < 0 ? '' : linkName.slice(at + 1)
  if (suffix.startsWith('global')) return lookup(null, name)
  return lookup(containerId, name)
}

/** The source a stored subscription is attached with: the one a client would send to subscribe to it again. */
export function storedSource(stored: StoredSubscription): Composite & { kind: 'source' } {
  const capabilities = ['topic']
  if (stored.shared) capabilities.push('shared')
  if (stored.clientId === null) capabilities.push('global')
  const filters: Array<[Value, Value]> = []
  if (stored.selector !== null)
    filters.push([
      new Typed('symbol', 'jms-selector'),
      new Described(new Typed('ulong', SELECTOR.code), stored.selector),
    ])
  if (stored.noLocal)
    filters.push([new Typed('symbol', 'no-local'), new Described(new Typed('ulong', NO_LOCAL.code), [])])
  return {
    kind: 'source',
    address: stored.key,
    durable: 2,
    expiryPolicy: 'never',
    timeout: 0,
    dynamic: false,
    capabilities,
    ...(filters.length === 0 ? {} : { filter: new AmqpMap(filters) }),
  }
}

/**
 * A receiver of a subscription goes: a durable one stays for later; a volatile one goes with its last receiver
 * (queued behind the registry's other changes, so after the caller has returned its unsettled deliveries; the
 * registry refuses, and keeps it, while another receiver reads it).
 */
export function leaveSubscription(
  registry: DurableSubscriptions,
  queue: string,
  owner: string,
  subscription: SubscriptionRef,
): void {
  registry.detach(queue, owner)
  if (subscription.volatile && registry.activeCount(queue) === 0)
    void registry.unsubscribe(subscription.clientId, subscription.name).catch(() => {})
}

/** A receiver of a durable subscription closed its link (not a mere detach): the client unsubscribes. */
export async function closeSubscription(registry: DurableSubscriptions, subscription: SubscriptionRef): Promise<void> {
  if (!subscription.volatile) await registry.unsubscribe(subscription.clientId, subscription.name).catch(() => {})
}
