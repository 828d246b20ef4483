// The SUBSCRIBE `selector` header: a JMS message selector, compiled with convertStringExpressions because
// every STOMP header is a string (`prio > 5` must match a message sent with `prio:7`), as ActiveMQ and Artemis
// do. On a queue it is the consumer's selector; on a topic it rides on the subscription's binding, so that
// messages it does not select never enter the subscription's queue. A bad one is an ERROR frame.
import { compileSelector, type Selector, SelectorError } from '../../../broker/selector/index.js'
import { StompFrameError } from '../wire/frame.js'

export function subscriptionSelector(text: string | undefined): Selector | undefined {
  if (text === undefined) return undefined
  try {
    return compileSelector(text, { convertStringExpressions: true })
  } catch (error) {
    if (error instanceof SelectorError) throw new StompFrameError(error.message)
    throw error
  }
}

/** Binding arguments that carry a subscription's selector to the router (selective-bindings.ts). */
export function selectorArguments(selector: Selector | undefined): Record<string, unknown> {
  if (selector === undefined) return {}
  return { 'x-selector': selector.text, 'x-selector-convert-strings': true }
}
