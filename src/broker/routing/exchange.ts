// One exchange's bindings and the index its type routes with. Targets are the router's interned
// destination objects, so every index dedupes by identity. Indexes hold a (pattern, target) pair once
// while the router may hold several bindings that map onto it (a direct binding differs from another
// only by arguments the direct type ignores), so each pair is reference-counted here and leaves the
// index with its last binding.
import { assert } from '../../util/assert.js'
import { WharfError } from '../../util/errors.js'
import type { SelectorMessage } from '../selector/index.js'
import { invalidArgument } from './errors.js'
import {
  amqpRoutingKeyToMqttTopic,
  DirectIndex,
  MqttTrie,
  matchHeaders,
  patternLevelsMaxDefault,
  TopicIndex,
  validateTopicFilter,
} from './match/index.js'
import { bindingSelector, SelectiveBindings } from './selective-bindings.js'
import type { BindingDef, Destination, ExchangeDef } from './types.js'
import { destinationKey } from './types.js'

/** A binding as the router holds it: normalized definition, catalog id and interned target. */
export interface BindingEntry {
  readonly id: string
  readonly def: Readonly<BindingDef> & { syntax: 'amqp' | 'mqtt'; durable: boolean }
  readonly target: Destination
}

const xMatchModes = new Set(['all', 'any', 'all-with-x', 'any-with-x'])

/**
 * Most '#' words one AMQP topic binding key may hold. Matching is linear whatever the count, but every
 * '#' a publish reaches stays live for the rest of its key, so each one adds work to every publish;
 * RabbitMQ (4.2) refuses more than two.
 */
export const topicWildcardsMaxDefault = 10

function wildcardCount(pattern: string): number {
  let count = 0
  for (const word of pattern.split('.')) if (word === '#') count++
  return count
}

function levelCount(pattern: string, separator: string): number {
  let count = 1
  for (let i = pattern.indexOf(separator); i !== -1; i = pattern.indexOf(separator, i + 1)) count++
  return count
}

export class ExchangeState {
  readonly def: ExchangeDef
  /** Bindings with this exchange as their source, by binding id. */
  readonly bindings = new Map<string, BindingEntry>()
  readonly #direct: DirectIndex<Destination> | undefined
  readonly #topic: TopicIndex<Destination> | undefined
  #mqtt: MqttTrie<Destination> | undefined
  /** Headers bindings are matched one by one: RabbitMQ's headers type has no index either. */
  readonly #headers: BindingEntry[] = []
  /** Bindings with a selector (selective-bindings.ts), outside every index. */
  readonly #selective = new SelectiveBindings()
  /** Fanout targets with their binding counts; also the reference counts of the other types' index pairs. */
  readonly #fanout = new Map<Destination, number>()
  readonly #refs = new Map<string, number>()
  #collectInto: Set<Destination> | undefined = undefined
  readonly #onMqtt = (target: Destination): void => {
    this.#collectInto?.add(target)
  }

  constructor(def: ExchangeDef) {
    this.def = def
    if (def.type === 'direct') this.#direct = new DirectIndex()
    if (def.type === 'topic') this.#topic = new TopicIndex()
  }

  /** Throws when binding cannot be added to this exchange; call before persisting it. */
  validate(binding: BindingDef & { syntax: 'amqp' | 'mqtt' }): void {
    const type = this.def.type
    bindingSelector(binding.arguments)
    if (binding.syntax === 'mqtt') {
      if (type !== 'topic')
        throw new WharfError(
          'INVALID_ARGUMENT',
          `MQTT filter bindings need a topic exchange, '${this.def.name}' is ${type}`,
        )
      const reason = validateTopicFilter(binding.key)
      if (reason !== null) throw new WharfError('INVALID_ARGUMENT', reason)
      this.#checkLevels(levelCount(binding.key, '/'), binding.key)
    } else if (type === 'topic' && binding.key !== '') {
      this.#checkLevels(levelCount(binding.key, '.'), binding.key)
    } else if (type === 'headers' && Object.hasOwn(binding.arguments, 'x-match')) {
      const mode = binding.arguments['x-match']
      const text = mode instanceof Uint8Array ? Buffer.from(mode).toString('utf8') : mode
      if (typeof text !== 'string' || !xMatchModes.has(text))
        throw invalidArgument(this.def.name, 'x-match', text, 'all, any, all-with-x, or any-with-x')
    }
  }

  /**
   * LIMIT_EXCEEDED when an AMQP topic binding key has more than wildcardsMax '#' words: a limit for new
   * bindings, kept apart from validate() so that bindings loaded from disk stay usable.
   */
  checkWildcards(binding: BindingDef & { syntax: 'amqp' | 'mqtt' }, wildcardsMax: number): void {
    if (binding.syntax === 'mqtt' || this.def.type !== 'topic') return
    const wildcards = wildcardCount(binding.key)
    if (wildcards > wildcardsMax)
      throw new WharfError(
        'LIMIT_EXCEEDED',
        `binding key has ${wildcards} '#' wildcards, more than ${wildcardsMax}: ${binding.key.slice(0, 64)}`,
      )
  }

  #checkLevels(levels: number, pattern: string): void {
    if (levels > patternLevelsMaxDefault)
      throw new WharfError(
        'LIMIT_EXCEEDED',
        `binding key has more than ${patternLevelsMaxDefault} levels: ${pattern.slice(0, 64)}`,
      )
  }

  add(entry: BindingEntry): void {
    assert(!this.bindings.has(entry.id), 'binding added twice')
    this.bindings.set(entry.id, entry)
    const selector = bindingSelector(entry.def.arguments)
    if (selector !== undefined) {
      this.#selective.add(this.def.type, entry, selector)
      return
    }
    if (this.def.type === 'headers') {
      this.#headers.push(entry)
      return
    }
    if (this.def.type === 'fanout') {
      this.#fanout.set(entry.target, (this.#fanout.get(entry.target) ?? 0) + 1)
      return
    }
    const ref = this.#refKey(entry)
    const count = this.#refs.get(ref) ?? 0
    this.#refs.set(ref, count + 1)
    if (count > 0) return
    const { key, syntax } = entry.def
    if (syntax === 'mqtt') {
      this.#mqtt ??= new MqttTrie()
      this.#mqtt.add(key, entry.target)
    } else if (this.#topic !== undefined) this.#topic.add(key, entry.target)
    else this.#direct?.add(key, entry.target)
  }

  remove(entry: BindingEntry): void {
    assert(this.bindings.delete(entry.id), 'removing an unknown binding')
    if (this.#selective.remove(entry)) return
    if (this.def.type === 'headers') {
      const index = this.#headers.indexOf(entry)
      assert(index !== -1, 'headers binding missing from its list')
      this.#headers.splice(index, 1)
      return
    }
    if (this.def.type === 'fanout') {
      const count = this.#fanout.get(entry.target) ?? 0
      if (count <= 1) this.#fanout.delete(entry.target)
      else this.#fanout.set(entry.target, count - 1)
      return
    }
    const ref = this.#refKey(entry)
    const count = this.#refs.get(ref) ?? 0
    assert(count > 0, 'binding reference count underflow')
    if (count > 1) {
      this.#refs.set(ref, count - 1)
      return
    }
    this.#refs.delete(ref)
    const { key, syntax } = entry.def
    if (syntax === 'mqtt') {
      this.#mqtt?.remove(key, entry.target)
      if (this.#mqtt?.size === 0) this.#mqtt = undefined
    } else if (this.#topic !== undefined) this.#topic.remove(key, entry.target)
    else this.#direct?.remove(key, entry.target)
  }

  #refKey(entry: BindingEntry): string {
    return `${entry.def.syntax}\u0000${entry.def.key}\u0000${destinationKey(entry.target)}`
  }

  /**
   * Adds the targets of every binding matching the publish to out (synchronous hot path). The message is what
   * binding selectors read; without one, bindings with a selector match nothing.
   */
  collect(
    routingKey: string,
    headers: Record<string, unknown> | undefined,
    out: Set<Destination>,
    message?: SelectorMessage,
  ): void {
    if (this.#selective.size > 0) this.#selective.collect(routingKey, headers, message, out)
    switch (this.def.type) {
      case 'direct':
        this.#direct?.match(routingKey, out)
        return
      case 'fanout':
        for (const target of this.#fanout.keys()) out.add(target)
        return
      case 'topic':
        this.#topic?.match(routingKey, out)
        if (this.#mqtt !== undefined) {
          // RabbitMQ's convention: MQTT topic a/b/c is the AMQP routing key a.b.c on amq.topic.
          this.#collectInto = out
          this.#mqtt.match(amqpRoutingKeyToMqttTopic(routingKey), this.#onMqtt)
          this.#collectInto = undefined
        }
        return
      case 'headers':
        for (const entry of this.#headers) if (matchHeaders(entry.def.arguments, headers)) out.add(entry.target)
        return
    }
  }
}
