// JMS message selectors: parse (parser.ts), compile (evaluate.ts), evaluate against a message (message.ts).
export { type Node, print } from './ast.js'
export { SelectorError } from './errors.js'
export { likeSteps } from './like.js'
export { DEFAULT_PRIORITY, type DeliveryFacts, type SelectorMessage, type Value } from './message.js'
export { defaultSelectorLimits, parseSelector, type SelectorLimits } from './parser.js'
export { compileSelector, Selector, type SelectorOptions } from './selector.js'
