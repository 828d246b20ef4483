// Virtual topics (ActiveMQ): a publish to the topic `VirtualTopic.X` reaches every queue named
// `Consumer.<name>.VirtualTopic.X`, so each consumer group gets a queue (load-balanced, durable) fed by a
// topic. Here that is a plain binding from the topic exchange to the queue with key `VirtualTopic.X`,
// created the first time such a queue is used (subscribed to or sent to), so a publish costs nothing more
// than any topic publish. The binding is durable with the queue; it goes when the queue is deleted.
import { defaultVirtualTopicPrefixes, type VirtualTopicPrefixes } from './options.js'

/**
 * The virtual topic a consumer queue reads (`Consumer.A.VirtualTopic.X` → `VirtualTopic.X`), or undefined
 * when the name is not one. The consumer name is one word (no dot) and not empty, as ActiveMQ's default
 * `Consumer.*.` pattern; the topic part may hold wildcards, since the binding key is a topic pattern.
 */
export function virtualTopicOf(
  queue: string,
  prefixes: VirtualTopicPrefixes = defaultVirtualTopicPrefixes,
): string | undefined {
  if (!queue.startsWith(prefixes.consumer)) return undefined
  const rest = queue.slice(prefixes.consumer.length)
  const dot = rest.indexOf('.')
  if (dot <= 0) return undefined
  const topic = rest.slice(dot + 1)
  if (!topic.startsWith(prefixes.topic) || topic.length === prefixes.topic.length) return undefined
  return topic
}

/** Binds consumer queues to their virtual topic when they are used. */
export class VirtualTopics {
  readonly prefixes: VirtualTopicPrefixes
  readonly #isBound: (queue: string, key: string) => boolean
  readonly #bind: (queue: string, key: string) => Promise<void>

  constructor(
    prefixes: VirtualTopicPrefixes,
    isBound: (queue: string, key: string) => boolean,
    bind: (queue: string, key: string) => Promise<void>,
  ) {
    this.prefixes = prefixes
    this.#isBound = isBound
    this.#bind = bind
  }

  /** The binding key of the topic a queue is fed by (see virtualTopicOf), or undefined. */
  keyOf(queue: string): string | undefined {
    const topic = virtualTopicOf(queue, this.prefixes)
    return topic === undefined ? undefined : topicPattern(topic)
  }

  /**
   * Called when a queue is used: binds it to its virtual topic unless it is bound already (a map lookup, so
   * a SEND may call it). A queue deleted and declared again is bound again on its next use.
   */
  async used(queue: string): Promise<void> {
    const key = this.keyOf(queue)
    if (key === undefined || this.#isBound(queue, key)) return
    await this.#bind(queue, key)
  }
}

/** An ActiveMQ topic pattern as a topic-exchange binding key: `*` is one word in both, `>` (the rest) is `#`. */
export function topicPattern(topic: string): string {
  if (!topic.includes('>')) return topic
  return topic
    .split('.')
    .map((word) => (word === '>' ? '#' : word))
    .join('.')
}
