// MQTT reason codes (MQTT 5.0 §2.4) and the one table that maps broker errors onto them. MQTT 3.1.1 has
// no reason codes on PUBACK/DISCONNECT: there a failed QoS 1/2 publish closes the connection, a refused
// subscription is SUBACK 0x80, and refused connections use the CONNACK return codes below.
import { isWharfError } from '../../../util/errors.js'

export const Reason = {
  success: 0x00,
  grantedQos1: 0x01,
  grantedQos2: 0x02,
  disconnectWithWill: 0x04,
  noMatchingSubscribers: 0x10,
  noSubscriptionExisted: 0x11,
  unspecified: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  implementationSpecific: 0x83,
  unsupportedProtocolVersion: 0x84,
  clientIdentifierNotValid: 0x85,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
  serverUnavailable: 0x88,
  serverBusy: 0x89,
  badAuthenticationMethod: 0x8c,
  keepAliveTimeout: 0x8d,
  sessionTakenOver: 0x8e,
  topicFilterInvalid: 0x8f,
  topicNameInvalid: 0x90,
  packetIdentifierInUse: 0x91,
  packetIdentifierNotFound: 0x92,
  receiveMaximumExceeded: 0x93,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  quotaExceeded: 0x97,
  administrativeAction: 0x98,
  payloadFormatInvalid: 0x99,
  retainNotSupported: 0x9a,
  qosNotSupported: 0x9b,
  sharedSubscriptionsNotSupported: 0x9e,
  subscriptionIdentifiersNotSupported: 0xa1,
  wildcardSubscriptionsNotSupported: 0xa2,
} as const

/** A reason code as the log shows it: `0x86 bad user name or password`. */
export function reasonText(code: number): string {
  const name = Object.entries(Reason).find(([, value]) => value === code)?.[0] ?? 'unknown'
  return `0x${code.toString(16).padStart(2, '0')} ${name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`)}`
}

/** MQTT 3.1.1 CONNACK return codes (§3.2.2.3). */
export const ConnackV3 = {
  accepted: 0,
  unacceptableProtocolVersion: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badUserNameOrPassword: 4,
  notAuthorized: 5,
} as const

/** A protocol violation or refusal with the reason code to send before closing. */
export class MqttError extends Error {
  constructor(
    readonly reason: number,
    message: string,
  ) {
    super(message)
  }
}

/** v5 CONNACK reason → v3.1.1 return code. */
export function connackV3Code(reason: number): number {
  switch (reason) {
    case Reason.success:
      return ConnackV3.accepted
    case Reason.unsupportedProtocolVersion:
      return ConnackV3.unacceptableProtocolVersion
    case Reason.clientIdentifierNotValid:
      return ConnackV3.identifierRejected
    case Reason.badUserNameOrPassword:
      return ConnackV3.badUserNameOrPassword
    case Reason.notAuthorized:
      return ConnackV3.notAuthorized
    default:
      return ConnackV3.serverUnavailable
  }
}

/**
 * The reason codes each acknowledgement may carry (MQTT 5 §3.4.2.1, §3.5.2.1, §3.9.3); DISCONNECT takes them
 * all. A client parser refuses any other code and drops the connection, so a reason outside the packet's set
 * (server busy for a full disk, say) is sent as unspecified error instead.
 */
const ACK_REASONS = {
  puback: new Set([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
  pubrec: new Set([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
  suback: new Set([0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]),
} as const

/** The adapter's one mapping from broker operating errors to a PUBACK/PUBREC/SUBACK/DISCONNECT reason. */
export function reasonForError(error: unknown, packet: keyof typeof ACK_REASONS | 'disconnect' = 'disconnect'): number {
  const reason = errorReason(error)
  return packet === 'disconnect' || ACK_REASONS[packet].has(reason) ? reason : Reason.unspecified
}

function errorReason(error: unknown): number {
  if (error instanceof MqttError) return error.reason
  if (!isWharfError(error)) return Reason.unspecified
  switch (error.code) {
    case 'QUEUE_FULL':
    case 'LIMIT_EXCEEDED':
      return Reason.quotaExceeded
    case 'MESSAGE_TOO_LARGE':
    case 'RECORD_TOO_LARGE':
      return Reason.packetTooLarge
    case 'INVALID_ARGUMENT':
      return Reason.topicFilterInvalid
    case 'ACCESS_REFUSED':
      return Reason.notAuthorized
    case 'BROKER_CLOSED':
    case 'LOG_CLOSED':
    case 'NOT_OWNER':
    case 'LINK_DOWN':
      return Reason.serverUnavailable
    case 'DISK_FULL':
    case 'IO_ERROR':
      return Reason.serverBusy
    default:
      return Reason.implementationSpecific
  }
}
