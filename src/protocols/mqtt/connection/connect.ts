// The CONNECT handshake: validate the packet and its will, settle the client's limits (v5 Receive Maximum,
// Maximum Packet Size, Topic Alias Maximum), take over or attach the session, answer CONNACK (or refuse
// with the reason), then resume unfinished QoS 2 exchanges and start consuming the session's queues.
import { randomUUID } from 'node:crypto'
import type { IConnectPacket } from 'mqtt-packet'
import { expiryNever } from '../session/session.js'
import { encodePacket } from '../wire/codec.js'
import { connackV3Code, MqttError, Reason, reasonText } from '../wire/errors.js'
import type { PublishProperties } from '../wire/message.js'
import {
  checkDecodedText,
  checkProperties,
  checkTopicName,
  connectProperties,
  frameHasReplacementChar,
  willProperties,
} from '../wire/validate.js'
import { authenticate } from './authenticate.js'
import type { ConnectionContext } from './context.js'

export async function onConnect(c: ConnectionContext, p: IConnectPacket, frame: Buffer): Promise<void> {
  c.version = p.protocolVersion ?? 4
  const v5 = c.version === 5
  const hub = c.hub
  const limits = hub.limits
  const replacement = () => frameHasReplacementChar(frame)
  const text = (value: string | undefined, what: string) => {
    if (value?.includes('\ufffd')) checkDecodedText(value, replacement(), what)
    else checkDecodedText(value, true, what)
  }
  text(p.clientId, 'client identifier')
  text(p.username, 'user name')
  if (v5) {
    checkProperties(p.properties, connectProperties, 'CONNECT')
    checkProperties(p.will?.properties, willProperties, 'will')
    if (p.properties?.receiveMaximum === 0) throw new MqttError(Reason.protocolError, 'Receive Maximum 0')
    if (p.properties?.maximumPacketSize === 0) throw new MqttError(Reason.protocolError, 'Maximum Packet Size 0')
    if (p.properties?.authenticationMethod !== undefined)
      throw refuse(c, Reason.badAuthenticationMethod, 'enhanced authentication is not supported')
    c.publishWriter.clientMaxPacket = p.properties?.maximumPacketSize ?? Number.POSITIVE_INFINITY
    c.publishWriter.clientAliasMax = Math.min(p.properties?.topicAliasMaximum ?? 0, limits.topicAliasMax)
    c.outbound.credit.resize(Math.min(limits.maxInflight, p.properties?.receiveMaximum ?? 65535))
  }
  if (hub.clientsConnected >= limits.maxConnections) throw refuse(c, Reason.quotaExceeded, 'too many connections')
  let clientId = p.clientId
  let assigned = false
  if (clientId === '') {
    if (!v5 && !p.clean) throw refuse(c, Reason.clientIdentifierNotValid, 'empty client identifier needs clean session') // [MQTT-3.1.3-8]
    clientId = `wharf-${randomUUID()}`
    assigned = true
  }
  if (Buffer.byteLength(clientId) > limits.maxClientIdBytes)
    throw refuse(c, Reason.clientIdentifierNotValid, 'client identifier too long')
  if (p.will !== undefined) {
    const will = p.will
    text(will.topic, 'will topic')
    if ((will.qos ?? 0) > 2) throw new MqttError(Reason.malformedPacket, 'will QoS 3')
    try {
      checkTopicName(will.topic, limits.maxTopicBytes)
    } catch (error) {
      throw refuse(c, Reason.topicNameInvalid, (error as Error).message)
    }
    const payload = Buffer.isBuffer(will.payload) ? will.payload : Buffer.from(will.payload)
    const { willDelayInterval, ...properties } = will.properties ?? {}
    c.will = {
      topic: will.topic,
      payload,
      qos: (will.qos ?? 0) as 0 | 1 | 2,
      retain: will.retain ?? false,
      properties: Object.keys(properties).length > 0 ? (properties as PublishProperties) : undefined,
      delayS: willDelayInterval ?? 0,
    }
  }
  // Before the session is touched: an unauthenticated client must not take over anyone's session.
  const authentication = await authenticate(c, p)
  if (gone(c)) return
  if ('refused' in authentication) {
    const { reason, v3, message } = authentication.refused
    throw refuse(c, reason, message, v3)
  }
  const principal = authentication.principal
  c.access = hub.broker.security.access(principal, c.socket.remoteAddress)
  c.clientId = clientId
  c.cleanStart = p.clean ?? true
  c.keepaliveMs = (p.keepalive ?? 0) * 1000
  const expiryS = v5 ? (p.properties?.sessionExpiryInterval ?? 0) : p.clean ? 0 : expiryNever
  const persistent = expiryS > 0
  const cleanStart = p.clean ?? true
  const { session, present } = await hub.withClient(clientId, async () => {
    const previous = hub.sessions.get(clientId)?.connection
    if (previous !== undefined && previous !== null && previous !== c.connection) previous.takeover()
    // A connection with this id through another broker of the cluster goes too.
    hub.broker.clusterLink.claim?.('mqtt', clientId)
    return hub.attach(clientId, cleanStart, persistent, expiryS)
  })
  if (c.state === 'closed') {
    // The client went away during the handshake.
    if (!session.persistent)
      await hub.withClient(clientId, () => (session.connection === null ? hub.destroy(session) : Promise.resolve()))
    return
  }
  session.connection = c.connection
  c.session = session
  c.state = 'connected'
  hub.connections.opened(c.connection)
  hub.stats.connectionsTotal++
  c.output.send({
    cmd: 'connack',
    sessionPresent: present,
    ...(v5
      ? {
          reasonCode: 0,
          properties: {
            receiveMaximum: limits.maxInflight,
            maximumPacketSize: limits.maxPacketBytes,
            topicAliasMaximum: limits.topicAliasMax,
            retainAvailable: true,
            wildcardSubscriptionAvailable: true,
            subscriptionIdentifiersAvailable: true,
            sharedSubscriptionAvailable: true,
            ...(assigned ? { assignedClientIdentifier: clientId } : {}),
          },
        }
      : { returnCode: 0 }),
  })
  // Unfinished QoS 2 exchanges continue where they stopped [MQTT-4.4.0-1].
  for (const id of session.outRel) c.output.send({ cmd: 'pubrel', messageId: id })
  c.outbound.consumeSession()
  for (const sub of session.subscriptions.values()) if (sub.group !== null) c.outbound.consumeShared(sub)
}

/** The client went away while CONNECT waited (a function, so the state is not narrowed for later checks). */
function gone(c: ConnectionContext): boolean {
  return c.state === 'closed'
}

/** A refusal during CONNECT: CONNACK with the reason (or the given 3.1.1 return code), then close. */
function refuse(c: ConnectionContext, reason: number, message: string, v3 = connackV3Code(reason)): MqttError {
  const v5 = c.version === 5
  c.output.writeNow(
    encodePacket(
      {
        cmd: 'connack',
        sessionPresent: false,
        ...(v5 ? { reasonCode: reason } : { returnCode: v3 }),
      },
      c.version,
    ),
  )
  c.refused = true
  const why = `${message}: CONNACK ${v5 ? reasonText(reason) : `return code ${v3}`}`
  // A refused login is logged where it is checked (common/authentication.ts); other refusals are the client's error.
  if (reason === Reason.badUserNameOrPassword || reason === Reason.notAuthorized)
    c.hub.connections.closing(c.connection, why)
  else c.hub.connections.protocolError(c.connection, why)
  return new MqttError(reason, message)
}
