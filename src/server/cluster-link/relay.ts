// Publishes to subscribers only one broker knows. Non-durable queues (AMQP exclusive and auto-delete queues,
// MQTT clean sessions, STOMP topic subscriptions) and in-memory sinks (MQTT QoS 0) live in the memory of the
// broker their client is connected to, with their bindings; the catalog other members share has neither. So
// each member tells the others on which exchanges it has such bindings (its interest), and a member that
// routes a publish through one of those exchanges repeats it to them; they route it to their transient
// destinations only (PublishOptions.transientOnly), since the publishing member reached every durable one.
import type { Broker } from '../../broker/broker.js'
import type { PublishMessage } from '../../broker/message.js'
import { servedHereOnly } from '../../broker/queue/remote.js'
import type { ClusterView } from '../../storage/api.js'
import type { Peer } from './peer.js'

/** A member repeats its interest this often even when unchanged (a peer that restarted forgot it). */
const INTEREST_REPEAT_MS = 5000

export class PublishRelay {
  readonly #broker: Broker
  readonly #cluster: ClusterView
  readonly #peer: (node: number) => Peer
  /** What each peer said it has transient bindings on. */
  readonly #interest = new Map<number, Set<string>>()
  #announced = ''
  #announcedAt = 0

  constructor(broker: Broker, cluster: ClusterView, peer: (node: number) => Peer) {
    this.#broker = broker
    this.#cluster = cluster
    this.#peer = peer
  }

  relay(
    exchange: string,
    routingKey: string,
    message: PublishMessage,
    options: { routingHeaders?: Record<string, unknown>; extraRoutingKeys?: readonly string[] },
  ): void {
    for (const [node, exchanges] of this.#interest) {
      if (!exchanges.has(exchange)) continue
      const { routingHeaders, extraRoutingKeys } = options
      this.#peer(node).tell('relay', { exchange, routingKey, message, routingHeaders, extraRoutingKeys }, true)
    }
  }

  /** A peer's interest (empty when its link closed). */
  heard(node: number, exchanges: readonly string[]): void {
    if (exchanges.length === 0) this.#interest.delete(node)
    else this.#interest.set(node, new Set(exchanges))
  }

  /** Tells every other live member this broker's interest when it changed, and now and then regardless. */
  announce(now = Date.now()): void {
    const exchanges = this.#transientSources()
    if (exchanges.join('\u0000') === this.#announced && now - this.#announcedAt < INTEREST_REPEAT_MS) return
    for (const member of this.#cluster.members())
      if (member.id !== this.#cluster.nodeId) this.#peer(member.id).tell('interest', { exchanges })
    this.#told(exchanges, now)
  }

  /** The interest to tell every member now, in a catch-up request (the link settler), instead of at the next announce. */
  interestNow(now = Date.now()): string[] {
    const exchanges = this.#transientSources()
    this.#told(exchanges, now)
    return exchanges
  }

  #told(exchanges: string[], now: number): void {
    this.#announced = exchanges.join('\u0000')
    this.#announcedAt = now
  }

  /** Exchanges with a binding to a sink or a queue only this broker holds; the default exchange with any such queue. */
  #transientSources(): string[] {
    const broker = this.#broker
    const sources = new Set<string>()
    for (const binding of broker.router.listBindings()) {
      const d = binding.destination
      const queue = d.kind === 'queue' ? broker.getQueue(d.name) : undefined
      if (d.kind === 'sink' || (queue !== undefined && servedHereOnly(queue.config))) sources.add(binding.source)
    }
    if (broker.listQueues().some((q) => servedHereOnly(q.config))) sources.add('')
    return [...sources].sort()
  }
}
