// A queue consumer's selector (ConsumeOptions.selector) with its verdict per message: a message it skipped
// costs one lookup, not one evaluation, on every later pass over the read-ahead. The verdict is kept by
// delivery count, since JMSXDeliveryCount and JMSRedelivered may be selected on.
import type { StoredMessage } from '../message.js'
import { compileSelector, type Selector } from '../selector/index.js'

export class ConsumerSelector {
  readonly selector: Selector
  /** Per message: deliveryCount * 2 + 1 when selected, deliveryCount * 2 when not. */
  readonly #verdicts = new WeakMap<StoredMessage, number>()

  constructor(selector: Selector) {
    this.selector = selector
  }

  /**
   * Whether the selector selects a message delivered `previousCount` times before. A verdict is remembered
   * when the message is not selected, or when `rememberSelected` (the caller may not take it now).
   */
  matches(message: StoredMessage, previousCount: number, rememberSelected = false): boolean {
    const cached = this.#verdicts.get(message)
    if (cached !== undefined && Math.floor(cached / 2) === previousCount) return cached % 2 === 1
    const selected = this.selector.matches(message, {
      deliveryCount: previousCount + 1,
      redelivered: previousCount > 0,
    })
    // A selected message is taken at once; only the ones left behind are met again.
    if (!selected || rememberSelected || cached !== undefined)
      this.#verdicts.set(message, previousCount * 2 + (selected ? 1 : 0))
    return selected
  }
}

/** A consumer's selector from its options: a text is compiled with the default options; blank is none. */
export function consumerSelector(selector: string | Selector | undefined): ConsumerSelector | undefined {
  if (selector === undefined) return undefined
  const compiled = typeof selector === 'string' ? compileSelector(selector) : selector
  return compiled === undefined ? undefined : new ConsumerSelector(compiled)
}
