// Durable and shared topic subscriptions (JMS 1.1 durable subscribers, JMS 2 shared subscriptions). A
// subscription is a durable queue bound to the topic exchange with the topic's key (and the selector as the
// binding's `x-selector`), so it keeps collecting messages while nobody consumes. Its queue is named as
// Artemis names it, `<clientId>.<name>` (just `<name>` for a shared subscription without a client id), and
// the registry entry is stored under that queue name, so both survive a restart.
// JMS rules kept here: an unshared subscription has at most one active consumer; subscribing again with
// another topic, selector or noLocal replaces the subscription (its messages are dropped) when nobody is
// consuming it, and is refused while someone is; unsubscribe deletes it and is refused while it is active.
import { WharfError } from '../../util/errors.js'
import type { Catalog } from '../catalog.js'
import type { JmsHost, StoredSubscription } from './host.js'

/** A subscribe: the subscription as it is to be stored, and who consumes it. */
export interface DurableRequest extends StoredSubscription {
  /** Who consumes (connection id): counted active until detach() or releaseOwner(). */
  owner: string
}

/** Queue name of a subscription: `<clientId>.<name>`, or `<name>` for a global shared one. */
export function subscriptionQueue(clientId: string | null, name: string): string {
  return clientId === null ? name : `${clientId}.${name}`
}

export class DurableSubscriptions {
  readonly #host: JmsHost
  readonly #stored: Catalog<StoredSubscription>
  /** Active consumers per subscription queue, by owner. */
  readonly #active = new Map<string, Map<string, number>>()
  /** One change at a time: two subscribes of one name must not both create it. */
  #tail: Promise<unknown> = Promise.resolve()

  constructor(host: JmsHost) {
    this.#host = host
    this.#stored = host.catalog<StoredSubscription>('jms-subscription')
  }

  #hasQueue(name: string): boolean {
    return this.#host.getQueue(name) !== undefined
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(work, work)
    this.#tail = run.catch(() => {})
    return run
  }

  /** Every stored subscription, by queue name. */
  list(): Array<[string, StoredSubscription]> {
    return this.#stored.list()
  }

  get(clientId: string | null, name: string): StoredSubscription | undefined {
    return this.#stored.get(subscriptionQueue(clientId, name))
  }

  /** Active consumers of a subscription queue. */
  activeCount(queue: string): number {
    let n = 0
    for (const count of this.#active.get(queue)?.values() ?? []) n += count
    return n
  }

  /**
   * Attaches a consumer to the subscription, creating or recreating it as JMS says; resolves with the queue
   * to consume. The caller must call detach(queue, owner) when its consumer goes.
   */
  subscribe(request: DurableRequest): Promise<string> {
    return this.#serial(async () => {
      if (request.name === '') throw new WharfError('INVALID_ARGUMENT', 'a subscription name must not be empty')
      if (request.clientId === null && !request.shared)
        throw new WharfError('INVALID_ARGUMENT', 'a durable subscription needs a client id')
      const queue = subscriptionQueue(request.clientId, request.name)
      const stored = this.#stored.get(queue)
      const active = this.activeCount(queue)
      if (stored !== undefined && stored.shared !== request.shared)
        throw inUse(queue, `subscription '${request.name}' exists as a${stored.shared ? ' shared' : 'n unshared'} one`)
      if (!request.shared && active > 0)
        throw new WharfError(
          'RESOURCE_LOCKED',
          `durable subscription '${request.name}' already has an active subscriber`,
          {
            detail: { queue, reason: 'in-use' },
          },
        )
      const wanted = entryOf(request)
      if (stored === undefined || !sameSubscription(stored, wanted) || !this.#hasQueue(queue)) {
        if (stored !== undefined && active > 0)
          throw inUse(queue, `shared subscription '${request.name}' is in use with another topic or selector`)
        if (stored !== undefined) await this.#delete(queue)
        else if (this.#hasQueue(queue)) throw inUse(queue, `queue '${queue}' exists and is not a subscription`)
        await this.#create(queue, wanted)
      } else await this.#bind(queue, stored) // a crash may have come between the queue and its binding
      const owners = this.#active.get(queue) ?? new Map<string, number>()
      owners.set(request.owner, (owners.get(request.owner) ?? 0) + 1)
      this.#active.set(queue, owners)
      return queue
    })
  }

  /** A consumer of the subscription went away; the subscription stays (and keeps collecting). */
  detach(queue: string, owner: string): void {
    const owners = this.#active.get(queue)
    const count = owners?.get(owner)
    if (owners === undefined || count === undefined) return
    if (count > 1) owners.set(owner, count - 1)
    else owners.delete(owner)
    if (owners.size === 0) this.#active.delete(queue)
  }

  /** Deletes a subscription and its messages; SUBSCRIPTION_NOT_FOUND when unknown, RESOURCE_LOCKED while active. */
  unsubscribe(clientId: string | null, name: string): Promise<void> {
    return this.#serial(async () => {
      const queue = subscriptionQueue(clientId, name)
      if (this.#stored.get(queue) === undefined)
        throw new WharfError('SUBSCRIPTION_NOT_FOUND', `no durable subscription '${name}'`, { detail: { queue } })
      if (this.activeCount(queue) > 0)
        throw new WharfError('RESOURCE_LOCKED', `durable subscription '${name}' has an active subscriber`, {
          detail: { queue, reason: 'in-use' },
        })
      await this.#delete(queue)
    })
  }

  /** The owner's consumers are gone (connection closed). */
  releaseOwner(owner: string): void {
    for (const [queue, owners] of this.#active) {
      owners.delete(owner)
      if (owners.size === 0) this.#active.delete(queue)
    }
  }

  async #create(queue: string, entry: StoredSubscription): Promise<void> {
    // The entry first: a crash after it leaves a subscription whose queue a resubscribe creates again.
    await this.#stored.put(queue, entry)
    await this.#host.createQueue(queue, { durable: true }, { ifNotExists: true })
    await this.#bind(queue, entry)
  }

  /** The subscription's binding; binding it again is a no-op that writes nothing. */
  async #bind(queue: string, entry: StoredSubscription): Promise<void> {
    await this.#host.bind({
      source: entry.exchange,
      destination: { kind: 'queue', name: queue },
      key: entry.key,
      arguments: selectorArguments(entry),
      durable: true,
    })
  }

  async #delete(queue: string): Promise<void> {
    // The queue's bindings go with it.
    if (this.#hasQueue(queue)) await this.#host.deleteQueue(queue)
    await this.#stored.delete(queue)
  }
}

function entryOf(r: DurableRequest): StoredSubscription {
  return {
    clientId: r.clientId,
    name: r.name,
    shared: r.shared,
    exchange: r.exchange,
    key: r.key,
    selector: r.selector,
    ...(r.selectorConvertsStrings === true ? { selectorConvertsStrings: true } : {}),
    noLocal: r.noLocal,
  }
}

function selectorArguments(entry: StoredSubscription): Record<string, unknown> {
  if (entry.selector === null) return {}
  const args: Record<string, unknown> = { 'x-selector': entry.selector }
  if (entry.selectorConvertsStrings === true) args['x-selector-convert-strings'] = true
  return args
}

function sameSubscription(a: StoredSubscription, b: StoredSubscription): boolean {
  return a.exchange === b.exchange && a.key === b.key && a.selector === b.selector && a.noLocal === b.noLocal
}

function inUse(queue: string, message: string): WharfError {
  return new WharfError('RESOURCE_LOCKED', message, { detail: { queue, reason: 'in-use' } })
}
