// Ending a connection: a protocol error or refusal (v5 DISCONNECT or CONNACK with the reason), the
// client's DISCONNECT, and teardown — leaving the hub's sets, flushing and closing the stream, handing the
// queues' unacked deliveries back, scheduling the will, and saving or destroying the session.
import type { IDisconnectPacket } from 'mqtt-packet'
import { encodePacket } from '../wire/codec.js'
import { MqttError, Reason, reasonForError, reasonText } from '../wire/errors.js'
import { checkProperties, disconnectProperties } from '../wire/validate.js'
import type { OutboundDeliveries } from './outbound.js'
import type { Output } from './output.js'
import type { ConnectionCore } from './state.js'

/** What closing a connection touches: the core, the output and the deliveries it releases. */
export type ClosingContext = ConnectionCore & { readonly output: Output; readonly outbound: OutboundDeliveries }

/** A protocol error or refusal: v5 gets a DISCONNECT with the reason, then the connection closes. */
export function fail(c: ClosingContext, error: unknown): void {
  if (c.state === 'closed') return
  const reason = reasonForError(error)
  if (!(error instanceof MqttError)) {
    c.hub.logger.warn({ err: error, clientId: c.clientId }, 'MQTT connection failed')
    c.hub.connections.closing(c.connection, `internal error: ${(error as Error)?.message ?? error}`)
  } else if (!c.refused) {
    // A refused CONNECT was logged where its CONNACK was sent (connect.ts).
    const v5 = c.version === 5
    const sent =
      v5 && c.state === 'connected'
        ? `DISCONNECT ${reasonText(reason)}`
        : v5 && c.state === 'connecting'
          ? `CONNACK ${reasonText(reason)}`
          : 'closed without a reason code (MQTT 3.1.1)'
    c.hub.connections.protocolError(c.connection, `${error.message}: ${sent}`)
  }
  if (c.version === 5 && c.state === 'connected') c.output.send({ cmd: 'disconnect', reasonCode: reason })
  else if (c.state === 'connecting' && !c.refused && c.version === 5) {
    c.output.writeNow(encodePacket({ cmd: 'connack', sessionPresent: false, reasonCode: reason }, 5))
  }
  teardown(c, true)
}

export function onDisconnect(c: ClosingContext, p: IDisconnectPacket): void {
  const session = c.session!
  if (c.version === 5) {
    checkProperties(p.properties, disconnectProperties, 'DISCONNECT')
    const expiry = p.properties?.sessionExpiryInterval
    if (expiry !== undefined) {
      // A session that ends at disconnect cannot be made to outlive it here [MQTT-3.14.2-2].
      if (session.expiryS === 0 && expiry > 0)
        throw new MqttError(Reason.protocolError, 'Session Expiry set on DISCONNECT after 0 on CONNECT')
      session.expiryS = expiry
      session.persistent = expiry > 0
    }
  }
  c.hub.connections.closing(c.connection, 'client sent DISCONNECT')
  const withWill = c.version === 5 && p.reasonCode === Reason.disconnectWithWill
  if (!withWill) c.will = null // [MQTT-3.1.2-10]
  teardown(c, withWill)
}

export function teardown(c: ClosingContext, publishWill: boolean): void {
  if (c.state === 'closed') return
  const wasConnected = c.state === 'connected'
  c.state = 'closed'
  const hub = c.hub
  hub.connections.delete(c.connection)
  c.output.updateFlow()
  // What is queued (a DISCONNECT or CONNACK with the reason) goes out; nothing written after it does.
  c.output.finish()
  const stream = c.stream
  if (!stream.destroyed) {
    // A peer that does not read gets a second to take it.
    stream.end(() => stream.destroy())
    setTimeout(() => stream.destroy(), 1000).unref()
  }
  const broker = hub.broker
  const session = c.session
  c.outbound.release()
  if (!wasConnected || session === null) return
  if (session.connection === c.connection) session.connection = null
  const will = c.will
  c.will = null
  // A will is the client's publish: on a topic it may not write (now), it is dropped unannounced, as Mosquitto
  // checks it when it is due rather than refusing the CONNECT that carried it.
  if (publishWill && will !== null && c.access?.allows('Write', 'MqttTopic', will.topic) === true)
    hub.scheduleWill(c.clientId, will, session.persistent ? session.expiryS : 0)
  c.closing = hub
    .withClient(c.clientId, async () => {
      // Taken over (or ended) meanwhile, here or through another broker: the session is someone else's now.
      if (session.connection !== null || session.destroyed || hub.sessions.get(c.clientId) !== session) return
      if (session.persistent) {
        session.disconnectedAt = broker.now()
        await hub.save(session)
        hub.scheduleExpiry(session)
      } else await hub.destroy(session)
    })
    .catch((error) => hub.logger.warn({ err: error, clientId: c.clientId }, 'session close failed'))
}
