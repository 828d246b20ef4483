// What the broker offers in its open, and the sole-connection-for-container extension (the AMQP "soleconn"
// capability Qpid JMS asks for): a client that desires it claims its container id (its JMS client id, in the
// same registry STOMP's client-id uses), and a second connection claiming the same id is refused, as ActiveMQ
// refuses a duplicate client id: an open that says `amqp:connection-establishment-failed`, then a close with
// `amqp:invalid-field` naming the container-id field.
import type { Broker } from '../../broker/broker.js'
import { isWharfError } from '../../util/errors.js'
import type { AnyInit, Composite } from './codec/generated/types.js'
import { AmqpMap, Typed } from './codec/values.js'

export const SOLE_CONNECTION = 'sole-connection-for-container'

/** The connection capabilities offered: what Qpid JMS looks for before using each feature. */
export const OFFERED_CAPABILITIES = ['ANONYMOUS-RELAY', 'SHARED-SUBS', 'DELAYED_DELIVERY', SOLE_CONNECTION]

const symbol = (text: string) => new Typed('symbol', text)

/** Claims the container id when the client asks to be its sole connection; the refusing frames if taken. */
export function claimContainer(
  broker: Broker,
  open: Composite & { kind: 'open' },
  owner: string,
): AnyInit[] | undefined {
  const asked =
    open.desiredCapabilities?.includes(SOLE_CONNECTION) === true || open.properties?.get(SOLE_CONNECTION) !== undefined
  if (!asked) return undefined
  try {
    broker.jms.clientIds.claim(open.containerId, owner)
    return undefined
  } catch (error) {
    if (!isWharfError(error, 'RESOURCE_LOCKED')) throw error
    return [
      {
        kind: 'open',
        containerId: 'wharf',
        properties: new AmqpMap([[symbol('amqp:connection-establishment-failed'), true]]),
      } as AnyInit,
      {
        kind: 'close',
        error: {
          kind: 'error',
          condition: 'amqp:invalid-field',
          description: `container id '${open.containerId}' is already connected`,
          info: new AmqpMap([[symbol('invalid-field'), symbol('container-id')]]),
        },
      } as AnyInit,
    ]
  }
}
