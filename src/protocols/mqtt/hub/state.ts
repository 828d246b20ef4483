// What the hub's session parts share (session/lifecycle.ts, session/bindings.ts): the broker, the limits,
// the sessions by client id, who is in each shared-subscription queue, the waiting wills, and whether the hub
// closed. MqttHub owns one HubState and passes it to those plain functions, so none of it has to be public
// on the hub beyond what connections already use.
import type { Broker } from '../../../broker/broker.js'
import type { Logger } from '../../../util/logger.js'
import type { MqttLimits, Session } from '../session/session.js'
import type { Wills } from '../session/wills.js'

export interface HubState {
  readonly broker: Broker
  readonly limits: MqttLimits
  readonly logger: Logger
  readonly sessions: Map<string, Session>
  /** Members (client ids) of each shared-subscription queue. */
  readonly shareMembers: Map<string, Set<string>>
  readonly wills: Wills
  /** Set by MqttHub.close: expiry timers that still run afterwards do nothing. */
  closed: boolean
}
