// SNS-style topics: a topic is a name with subscriptions, each a destination plus an optional filter
// policy (compiled once, at subscribe or attribute change) and the raw-delivery flag that the HTTP
// layer uses to choose between the bare message and the JSON envelope. Kept beside the router rather
// than as exchange bindings because a filter policy needs the message attributes and body, which
// exchanges never see. Persisted in the catalog (kinds 'sns-topic' and 'sns-subscription') with the
// router's discipline: mutations one at a time, catalog first, memory after.
import { randomUUID } from 'node:crypto'
import { WharfError } from '../../util/errors.js'
import {
  compileFilterPolicy,
  type FilterPolicy,
  type FilterPolicyScope,
  type MessageAttributes,
} from '../routing/match/index.js'
import { copyDestination, type Destination, destinationKey, type RouterCatalog } from '../routing/types.js'

const KIND_TOPIC = 'sns-topic'
const KIND_SUBSCRIPTION = 'sns-subscription'

/** AWS allows 12.5 million; a single-process broker wants a bound it can actually iterate per publish. */
export const snsSubscriptionsPerTopicMax = 10_000

export interface SnsSubscription {
  readonly id: string
  readonly topic: string
  readonly destination: Destination
  /** The policy as the client sent it (JSON text), for GetSubscriptionAttributes. */
  readonly filterPolicyJson: string | undefined
  readonly filterPolicy: FilterPolicy | undefined
  readonly scope: FilterPolicyScope
  readonly raw: boolean
}

export interface SubscribeRequest {
  topic: string
  destination: Destination
  filterPolicy?: string | object
  scope?: FilterPolicyScope
  raw?: boolean
  /** Defaults to a random UUID (the tail of the subscription ARN). */
  id?: string
}

interface StoredSubscription {
  topic: string
  destination: Destination
  filterPolicy: string | null
  scope: FilterPolicyScope
  raw: boolean
}

interface Topic {
  attributes: Readonly<Record<string, string>>
  subscriptions: Map<string, SnsSubscription>
}

function topicNotFound(name: string): WharfError {
  return new WharfError('STREAM_NOT_FOUND', `Topic does not exist: ${name}`)
}

function sameAttributes(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k])
}

function build(id: string, stored: StoredSubscription): SnsSubscription {
  const scope = stored.scope ?? 'MessageAttributes'
  if (scope !== 'MessageAttributes' && scope !== 'MessageBody')
    throw new WharfError('INVALID_ARGUMENT', `Invalid parameter: FilterPolicyScope: ${String(scope)}`)
  const json = stored.filterPolicy ?? undefined
  return Object.freeze({
    id,
    topic: stored.topic,
    destination: copyDestination(stored.destination),
    filterPolicyJson: json,
    filterPolicy: json === undefined ? undefined : compileFilterPolicy(json, scope),
    scope,
    raw: stored.raw === true,
  })
}

function toStored(subscription: SnsSubscription): StoredSubscription {
  return {
    topic: subscription.topic,
    destination: subscription.destination,
    filterPolicy: subscription.filterPolicyJson ?? null,
    scope: subscription.scope,
    raw: subscription.raw,
  }
}

export class TopicSubscriptions {
  readonly #catalog: RouterCatalog | undefined
  readonly #topics = new Map<string, Topic>()
  readonly #byId = new Map<string, SnsSubscription>()
  #tail: Promise<unknown> = Promise.resolve()

  constructor(options: { catalog?: RouterCatalog } = {}) {
    this.#catalog = options.catalog
  }

  static async open(catalog: RouterCatalog | undefined): Promise<TopicSubscriptions> {
    const subs = new TopicSubscriptions({ catalog })
    subs.#load()
    return subs
  }

  #load(): void {
    const catalog = this.#catalog
    if (catalog === undefined) return
    for (const [name, stored] of catalog.list<{ attributes?: Record<string, string> }>(KIND_TOPIC))
      this.#topics.set(name, { attributes: Object.freeze({ ...(stored.attributes ?? {}) }), subscriptions: new Map() })
    for (const [id, stored] of catalog.list<StoredSubscription>(KIND_SUBSCRIPTION)) {
      const topic = this.#topics.get(stored.topic)
      if (topic === undefined) continue // left behind by an interrupted deleteTopic
      const subscription = build(id, stored)
      topic.subscriptions.set(id, subscription)
      this.#byId.set(id, subscription)
    }
  }

  /** Reads topics and subscriptions from the catalog again (another broker sharing the storage changed them). */
  reload(): Promise<void> {
    return this.#serial(async () => {
      this.#topics.clear()
      this.#byId.clear()
      this.#load()
    })
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(task, task)
    this.#tail = run.catch(() => undefined)
    return run
  }

  /** CreateTopic: idempotent for equal attributes, as AWS is. */
  createTopic(name: string, attributes: Record<string, string> = {}): Promise<void> {
    return this.#serial(async () => {
      const existing = this.#topics.get(name)
      if (existing !== undefined) {
        if (!sameAttributes(existing.attributes, attributes))
          throw new WharfError(
            'INVALID_ARGUMENT',
            'Invalid parameter: Attributes Reason: Topic already exists with different attributes',
          )
        return
      }
      await this.#catalog?.put(KIND_TOPIC, name, { attributes })
      this.#topics.set(name, { attributes: Object.freeze({ ...attributes }), subscriptions: new Map() })
    })
  }

  /** DeleteTopic with its subscriptions; a missing topic is not an error (AWS answers success). */
  deleteTopic(name: string): Promise<void> {
    return this.#serial(async () => {
      const topic = this.#topics.get(name)
      if (topic === undefined) return
      for (const id of topic.subscriptions.keys()) await this.#catalog?.delete(KIND_SUBSCRIPTION, id)
      await this.#catalog?.delete(KIND_TOPIC, name)
      for (const id of topic.subscriptions.keys()) this.#byId.delete(id)
      this.#topics.delete(name)
    })
  }

  hasTopic(name: string): boolean {
    return this.#topics.has(name)
  }

  topicAttributes(name: string): Readonly<Record<string, string>> | undefined {
    return this.#topics.get(name)?.attributes
  }

  listTopics(): string[] {
    return [...this.#topics.keys()]
  }

  /**
   * Subscribe: a second subscription of the same destination to the same topic returns the first when
   * its attributes are equal and fails otherwise, as AWS does.
   */
  subscribe(request: SubscribeRequest): Promise<SnsSubscription> {
    return this.#serial(async () => {
      const topic = this.#topics.get(request.topic)
      if (topic === undefined) throw topicNotFound(request.topic)
      const policyJson =
        request.filterPolicy === undefined
          ? null
          : typeof request.filterPolicy === 'string'
            ? request.filterPolicy
            : JSON.stringify(request.filterPolicy)
      const stored: StoredSubscription = {
        topic: request.topic,
        destination: copyDestination(request.destination),
        filterPolicy: policyJson,
        scope: request.scope ?? 'MessageAttributes',
        raw: request.raw === true,
      }
      const key = destinationKey(stored.destination)
      for (const existing of topic.subscriptions.values()) {
        if (destinationKey(existing.destination) !== key) continue
        const same = JSON.stringify(toStored(existing)) === JSON.stringify(stored)
        if (same && (request.id === undefined || request.id === existing.id)) return existing
        throw new WharfError(
          'INVALID_ARGUMENT',
          'Invalid parameter: Attributes Reason: Subscription already exists with different attributes',
        )
      }
      if (topic.subscriptions.size >= snsSubscriptionsPerTopicMax)
        throw new WharfError(
          'LIMIT_EXCEEDED',
          `topic ${request.topic} has ${snsSubscriptionsPerTopicMax} subscriptions`,
        )
      const id = request.id ?? randomUUID()
      if (this.#byId.has(id)) throw new WharfError('SUBSCRIPTION_EXISTS', `subscription ${id} exists`)
      const subscription = build(id, stored) // compiles (and so validates) the policy before persisting
      await this.#catalog?.put(KIND_SUBSCRIPTION, id, stored)
      topic.subscriptions.set(id, subscription)
      this.#byId.set(id, subscription)
      return subscription
    })
  }

  /** SetSubscriptionAttributes: null clears the filter policy. */
  setSubscriptionAttributes(
    id: string,
    changes: { filterPolicy?: string | object | null; scope?: FilterPolicyScope; raw?: boolean },
  ): Promise<SnsSubscription> {
    return this.#serial(async () => {
      const current = this.#byId.get(id)
      if (current === undefined) throw new WharfError('SUBSCRIPTION_NOT_FOUND', `Subscription does not exist: ${id}`)
      const stored = toStored(current)
      if (changes.filterPolicy !== undefined)
        stored.filterPolicy =
          changes.filterPolicy === null || typeof changes.filterPolicy === 'string'
            ? changes.filterPolicy
            : JSON.stringify(changes.filterPolicy)
      if (changes.scope !== undefined) stored.scope = changes.scope
      if (changes.raw !== undefined) stored.raw = changes.raw
      const next = build(id, stored)
      await this.#catalog?.put(KIND_SUBSCRIPTION, id, stored)
      this.#topics.get(current.topic)?.subscriptions.set(id, next)
      this.#byId.set(id, next)
      return next
    })
  }

  unsubscribe(id: string): Promise<boolean> {
    return this.#serial(async () => {
      const current = this.#byId.get(id)
      if (current === undefined) return false
      await this.#catalog?.delete(KIND_SUBSCRIPTION, id)
      this.#topics.get(current.topic)?.subscriptions.delete(id)
      this.#byId.delete(id)
      return true
    })
  }

  /** Removes every subscription delivering to destination (its queue was deleted). */
  async unsubscribeDestination(destination: Destination): Promise<void> {
    const key = destinationKey(destination)
    const ids = [...this.#byId.values()].filter((s) => destinationKey(s.destination) === key).map((s) => s.id)
    for (const id of ids) await this.unsubscribe(id)
  }

  get(id: string): SnsSubscription | undefined {
    return this.#byId.get(id)
  }

  list(topic?: string): SnsSubscription[] {
    if (topic === undefined) return [...this.#byId.values()]
    return [...(this.#topics.get(topic)?.subscriptions.values() ?? [])]
  }

  /**
   * The subscriptions of topic whose filter policy accepts a publish with attributes and body (the
   * message text or its parsed JSON). Body-scope policies need a JSON object body: the text is parsed
   * once per publish, and a body that is not JSON matches no body-scope policy.
   */
  match(
    topicName: string,
    attributes: MessageAttributes | undefined,
    body?: unknown,
    out: SnsSubscription[] = [],
  ): SnsSubscription[] {
    out.length = 0
    const topic = this.#topics.get(topicName)
    if (topic === undefined) throw topicNotFound(topicName)
    let parsed: unknown = body
    let parsedReady = typeof body !== 'string'
    for (const subscription of topic.subscriptions.values()) {
      const policy = subscription.filterPolicy
      if (policy === undefined) {
        out.push(subscription)
        continue
      }
      let input: unknown = attributes ?? {}
      if (policy.scope === 'MessageBody') {
        if (!parsedReady) {
          parsedReady = true
          try {
            parsed = JSON.parse(body as string)
          } catch {
            parsed = undefined
          }
        }
        input = parsed
      }
      if (policy.matches(input)) out.push(subscription)
    }
    return out
  }
}
