// Bindings with a JMS message selector (binding argument `x-selector`): the publish reaches the binding's
// destination only when the binding's own key rule matches and the selector selects the message, so a topic
// subscription with a selector never sees the rest (nothing enters its queue). They are kept out of the
// exchange's index and matched one by one, like headers bindings; each has its key matcher built once.
// `x-selector-convert-strings: true` compiles the selector with convertStringExpressions (STOMP).
import { WharfError } from '../../util/errors.js'
import { compileSelector, type Selector, type SelectorMessage } from '../selector/index.js'
import { amqpRoutingKeyToMqttTopic, MqttTrie, matchHeaders, TopicIndex } from './match/index.js'
import type { BindingDef, Destination, ExchangeType } from './types.js'

export const SELECTOR_ARGUMENT = 'x-selector'
export const SELECTOR_CONVERT_ARGUMENT = 'x-selector-convert-strings'

function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8')
  return undefined
}

/**
 * The compiled selector of a binding's arguments, undefined when it has none (or a blank one). Throws
 * INVALID_ARGUMENT for a value that is not a string or a selector that does not parse.
 */
export function bindingSelector(args: Readonly<Record<string, unknown>>): Selector | undefined {
  if (!Object.hasOwn(args, SELECTOR_ARGUMENT)) return undefined
  const text = textOf(args[SELECTOR_ARGUMENT])
  if (text === undefined)
    throw new WharfError('INVALID_ARGUMENT', `binding argument ${SELECTOR_ARGUMENT} must be a string`)
  const convert = args[SELECTOR_CONVERT_ARGUMENT]
  return compileSelector(text, { convertStringExpressions: convert === true || textOf(convert) === 'true' })
}

type KeyRule = (routingKey: string, headers: Record<string, unknown> | undefined) => boolean

function keyRule(type: ExchangeType, def: Readonly<BindingDef> & { syntax: 'amqp' | 'mqtt' }): KeyRule {
  switch (type) {
    case 'fanout':
      return () => true
    case 'headers':
      return (_, headers) => matchHeaders(def.arguments, headers)
    case 'direct':
      return (routingKey) => routingKey === def.key
    case 'topic': {
      if (def.syntax === 'mqtt') {
        const trie = new MqttTrie<true>()
        trie.add(def.key, true)
        return (routingKey) => trie.matchSet(amqpRoutingKeyToMqttTopic(routingKey)).size > 0
      }
      const index = new TopicIndex<true>()
      index.add(def.key, true)
      return (routingKey) => index.match(routingKey).size > 0
    }
  }
}

/** The parts of a router binding entry (exchange.ts) used here. */
interface BindingEntry {
  readonly def: Readonly<BindingDef> & { syntax: 'amqp' | 'mqtt' }
  readonly target: Destination
}

interface SelectiveBinding {
  readonly entry: BindingEntry
  readonly selector: Selector
  readonly key: KeyRule
}

export class SelectiveBindings {
  readonly #items: SelectiveBinding[] = []

  get size(): number {
    return this.#items.length
  }

  add(type: ExchangeType, entry: BindingEntry, selector: Selector): void {
    this.#items.push({ entry, selector, key: keyRule(type, entry.def) })
  }

  /** False when entry is not one of these. */
  remove(entry: BindingEntry): boolean {
    const at = this.#items.findIndex((item) => item.entry === entry)
    if (at < 0) return false
    this.#items.splice(at, 1)
    return true
  }

  /** Adds the target of every binding whose key rule and selector both match; none without a message. */
  collect(
    routingKey: string,
    headers: Record<string, unknown> | undefined,
    message: SelectorMessage | undefined,
    out: Set<Destination>,
  ): void {
    if (message === undefined) return
    for (const item of this.#items) {
      if (out.has(item.entry.target)) continue
      if (item.key(routingKey, headers) && item.selector.matches(message)) out.add(item.entry.target)
    }
  }
}
