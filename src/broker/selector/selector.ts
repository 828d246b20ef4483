// Compiled selectors and their cache. A selector is parsed and compiled once; subscriptions and consumers
// with the same text share the compiled form (an LRU keyed by text, options and limits), so a thousand
// STOMP subscribers with one selector cost one parse.
import { compileCondition, type Evaluator } from './evaluate.js'
import { type DeliveryFacts, SelectorContext, type SelectorMessage } from './message.js'
import { defaultSelectorLimits, parseSelector, type SelectorLimits } from './parser.js'

export interface SelectorOptions {
  /**
   * Compare a string with a number (or a boolean) by converting the string when it reads as one, instead of
   * treating the mix as unknown: ActiveMQ/Artemis `convert_string_expressions`, on for STOMP subscriptions.
   */
  convertStringExpressions?: boolean
  limits?: Partial<SelectorLimits>
}

export class Selector {
  readonly text: string
  readonly convertStringExpressions: boolean
  readonly #evaluate: Evaluator
  /** Reused: evaluation is synchronous and never re-entrant. */
  readonly #ctx = new SelectorContext()

  constructor(text: string, options: SelectorOptions = {}) {
    this.text = text
    this.convertStringExpressions = options.convertStringExpressions ?? false
    const limits = { ...defaultSelectorLimits, ...options.limits }
    this.#evaluate = compileCondition(parseSelector(text, limits), this.convertStringExpressions)
  }

  /** TRUE, FALSE or null (unknown) for a message. */
  evaluate(message: SelectorMessage, facts?: DeliveryFacts): boolean | null {
    const ctx = this.#ctx
    ctx.reset(message, facts)
    try {
      const v = this.#evaluate(ctx)
      return typeof v === 'boolean' ? v : null
    } finally {
      ctx.reset(EMPTY, undefined)
    }
  }

  /** Whether the selector selects the message (evaluates to TRUE). */
  matches(message: SelectorMessage, facts?: DeliveryFacts): boolean {
    return this.evaluate(message, facts) === true
  }
}

const EMPTY: SelectorMessage = {}

const CACHE_MAX = 1024
const cache = new Map<string, Selector>()

/**
 * The compiled selector for a text, from the cache when compiled before. Throws a SelectorError
 * (INVALID_ARGUMENT, with the position) when the text does not parse or exceeds a limit; an empty or blank
 * text is no selector at all (undefined), as JMS says.
 */
export function compileSelector(text: string, options: SelectorOptions = {}): Selector | undefined {
  if (text.trim() === '') return undefined
  const limits = { ...defaultSelectorLimits, ...options.limits }
  const convert = options.convertStringExpressions ?? false
  const key = `${convert ? 1 : 0}:${limits.lengthMax}:${limits.depthMax}:${limits.inListMax}:${text}`
  const hit = cache.get(key)
  if (hit !== undefined) {
    cache.delete(key)
    cache.set(key, hit)
    return hit
  }
  const selector = new Selector(text, { convertStringExpressions: convert, limits })
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!)
  cache.set(key, selector)
  return selector
}
