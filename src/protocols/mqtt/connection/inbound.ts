// Inbound PUBLISH (QoS 0/1/2, client topic aliases, Receive Maximum, $SYS and topics the principal may not
// write refused) and PUBREL, with their acknowledgements: PUBACK / PUBREC / PUBCOMP leave strictly in arrival
// order through the pending-ack list, each once the work it acknowledges (routing; for QoS 2 also saving the
// packet id) has settled.
import type { IPublishPacket, Packet } from 'mqtt-packet'
import { burstClock } from '../../common/metrics.js'
import { MqttError, Reason, reasonForError } from '../wire/errors.js'
import {
  checkDecodedText,
  checkPacketId,
  checkPayloadFormat,
  checkProperties,
  checkTopicName,
  frameHasReplacementChar,
  publishProperties,
} from '../wire/validate.js'
import { type ClosingContext, fail } from './closing.js'

const emptyPayload = Buffer.alloc(0)

/** An inbound publish's acknowledgement: 0 = waiting, 1 = done (value), 2 = failed (value = error). */
interface PendingAck {
  state: 0 | 1 | 2
  value: unknown
  ok: (value: unknown) => Packet
  failed: ((error: unknown) => Packet) | undefined
}

const doneAck: PendingAck = { state: 1, value: undefined, ok: () => ({ cmd: 'pingresp' }), failed: undefined }

export class InboundPublishes {
  readonly #c: ClosingContext
  /** Client → server topic aliases (v5). */
  readonly #aliases = new Map<number, string>()
  #inboundQos1 = 0
  /** Acknowledgements of inbound publishes, in arrival order; entries before #acksHead are sent. */
  readonly #acks: PendingAck[] = []
  #acksHead = 0

  constructor(c: ClosingContext) {
    this.#c = c
  }

  onPublish(p: IPublishPacket, frame: Buffer): void {
    const c = this.#c
    const v5 = c.version === 5
    const hub = c.hub
    const limits = hub.limits
    const session = c.session!
    let topic = p.topic
    let properties = p.properties
    if (v5 && properties !== undefined) {
      checkProperties(properties, publishProperties, 'PUBLISH')
      const alias = properties.topicAlias
      if (alias !== undefined) {
        if (alias === 0 || alias > limits.topicAliasMax)
          throw new MqttError(Reason.topicAliasInvalid, `topic alias ${alias} out of range`)
        if (topic === '') {
          const known = this.#aliases.get(alias)
          if (known === undefined) throw new MqttError(Reason.protocolError, `unknown topic alias ${alias}`)
          topic = known
        } else this.#aliases.set(alias, topic)
        const { topicAlias: _alias, ...rest } = properties
        properties = Object.keys(rest).length > 0 ? rest : undefined
      }
    }
    if (topic.includes('\ufffd')) checkDecodedText(topic, frameHasReplacementChar(frame), 'topic name')
    checkTopicName(topic, limits.maxTopicBytes)
    const payload =
      p.payload === undefined ? emptyPayload : Buffer.isBuffer(p.payload) ? p.payload : Buffer.from(p.payload)
    if (v5) checkPayloadFormat(properties?.payloadFormatIndicator, payload)
    const qos = p.qos
    const id = qos > 0 ? checkPacketId(p.messageId) : 0
    if (qos === 2 && session.inRel.has(id)) {
      // A retry of a PUBLISH already forwarded: acknowledge, do not forward again [MQTT-4.3.3-9].
      this.#chainAck(Promise.resolve(1), () => ({ cmd: 'pubrec', messageId: id }))
      return
    }
    if (qos > 0 && v5 && this.#inboundQos1 + session.inRel.size >= limits.maxInflight) {
      throw new MqttError(Reason.receiveMaximumExceeded, 'more unacknowledged QoS 1/2 publishes than Receive Maximum') // [MQTT-3.3.4-9]
    }
    if (topic.startsWith('$SYS/') || topic === '$SYS' || !c.access!.allows('Write', 'MqttTopic', topic)) {
      // The broker's own statistics, or a topic the principal may not write: dropped. MQTT 5 says so on QoS 1/2
      // (0x87); MQTT 3.1.1 has no code for it, so the publish is acknowledged and dropped, as Mosquitto does.
      if (qos > 0)
        this.#chainAck(Promise.resolve(0), () => ({
          cmd: qos === 1 ? 'puback' : 'pubrec',
          messageId: id,
          ...(v5 ? { reasonCode: Reason.notAuthorized } : {}),
        }))
      return
    }
    const work = hub.publish({ topic, qos, retain: p.retain, payload, properties, clientId: c.clientId })
    if (qos === 0) {
      work.catch((error) => hub.logger.debug({ err: error, clientId: c.clientId }, 'QoS 0 publish failed'))
      return
    }
    // The acknowledgement's builder runs as it is sent: the publish-to-confirm latency is taken there.
    const receivedAt = burstClock()
    if (qos === 1) {
      this.#inboundQos1++
      this.#chainAck(
        work,
        (routed) => {
          this.#inboundQos1--
          hub.traffic.publishToConfirm.since(receivedAt)
          return {
            cmd: 'puback',
            messageId: id,
            ...(v5 && routed === 0 ? { reasonCode: Reason.noMatchingSubscribers } : {}),
          }
        },
        (error) => {
          this.#inboundQos1--
          return { cmd: 'puback', messageId: id, reasonCode: reasonForError(error, 'puback') }
        },
      )
      return
    }
    session.inRel.add(id)
    const saved = work.then(async (routed) => {
      await hub.save(session)
      return routed
    })
    this.#chainAck(
      saved,
      (routed) => {
        hub.traffic.publishToConfirm.since(receivedAt)
        return {
          cmd: 'pubrec',
          messageId: id,
          ...(v5 && routed === 0 ? { reasonCode: Reason.noMatchingSubscribers } : {}),
        }
      },
      (error) => {
        session.inRel.delete(id)
        return { cmd: 'pubrec', messageId: id, reasonCode: reasonForError(error, 'pubrec') }
      },
    )
  }

  onPubrel(id: number): void {
    const c = this.#c
    const session = c.session!
    const known = session.inRel.delete(id)
    const saved = known ? c.hub.save(session) : Promise.resolve()
    this.#chainAck(saved, () => ({
      cmd: 'pubcomp',
      messageId: id,
      ...(c.version === 5 && !known ? { reasonCode: Reason.packetIdentifierNotFound } : {}),
    }))
  }

  /**
   * Sends an acknowledgement once work settles, in the order the publishes arrived. A failure is
   * reported with a reason code on MQTT 5; MQTT 3.1.1 has none, so the connection closes instead.
   */
  #chainAck<T>(work: Promise<T>, ok: (value: T) => Packet, failed?: (error: unknown) => Packet): void {
    // One entry and one reaction per publish; acknowledgements leave strictly in arrival order.
    const entry: PendingAck = { state: 0, value: undefined, ok: ok as (value: unknown) => Packet, failed }
    this.#acks.push(entry)
    work.then(
      (value) => {
        entry.state = 1
        entry.value = value
        this.#flushAcks()
      },
      (error: unknown) => {
        entry.state = 2
        entry.value = error
        this.#flushAcks()
      },
    )
  }

  #flushAcks(): void {
    const c = this.#c
    const acks = this.#acks
    while (this.#acksHead < acks.length) {
      const entry = acks[this.#acksHead]!
      if (entry.state === 0) break
      acks[this.#acksHead++] = doneAck
      if (c.state === 'closed') continue
      if (entry.state === 1) {
        c.output.send(entry.ok(entry.value))
        continue
      }
      c.hub.logger.debug({ err: entry.value, clientId: c.clientId }, 'publish failed')
      const packet = entry.failed?.(entry.value)
      if (c.version === 5 && packet !== undefined) c.output.send(packet)
      else fail(c, new MqttError(reasonForError(entry.value), String(entry.value)))
    }
    if (this.#acksHead === acks.length) {
      acks.length = 0
      this.#acksHead = 0
    } else if (this.#acksHead >= 1024) {
      acks.splice(0, this.#acksHead)
      this.#acksHead = 0
    }
  }
}
