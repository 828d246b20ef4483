// SUBSCRIBE and UNSUBSCRIBE: validate and authorize (Read) each filter, change the session's subscriptions one
// at a time (under the client's lock in the hub), answer SUBACK / UNSUBACK, then send the retained messages the
// new subscriptions asked for (Retain Handling) on topics the principal may read.
import type { ISubscribePacket, IUnsubscribePacket, QoS } from 'mqtt-packet'
import { type Subscription, splitShare } from '../session/session.js'
import { MqttError, Reason, reasonForError } from '../wire/errors.js'
import { qosOf, remainingExpiry } from '../wire/message.js'
import {
  checkDecodedText,
  checkPacketId,
  checkProperties,
  frameHasReplacementChar,
  subscribeProperties,
  topicFilterReason,
  unsubscribeProperties,
} from '../wire/validate.js'
import type { ConnectionContext } from './context.js'

export async function onSubscribe(c: ConnectionContext, p: ISubscribePacket, frame: Buffer): Promise<void> {
  const v5 = c.version === 5
  const hub = c.hub
  const limits = hub.limits
  const session = c.session!
  const id = checkPacketId(p.messageId)
  let subscriptionId: number | undefined
  if (v5) {
    checkProperties(p.properties, subscribeProperties, 'SUBSCRIBE')
    const raw = p.properties?.subscriptionIdentifier as number | number[] | undefined
    if (Array.isArray(raw) || raw === 0) throw new MqttError(Reason.protocolError, 'invalid Subscription Identifier')
    subscriptionId = raw
  }
  if (p.subscriptions.length === 0) throw new MqttError(Reason.protocolError, 'SUBSCRIBE without topic filters') // [MQTT-3.8.3-2]
  const failure = (reason: number) => (v5 ? reason : 0x80)
  const granted: number[] = []
  const retainedFor: Subscription[] = []
  for (const s of p.subscriptions) {
    if (s.topic.includes('\ufffd')) checkDecodedText(s.topic, frameHasReplacementChar(frame), 'topic filter')
    checkDecodedText(s.topic, true, 'topic filter')
    let split: { group: string | null; topicFilter: string }
    try {
      split = splitShare(s.topic)
    } catch {
      granted.push(failure(Reason.topicFilterInvalid))
      continue
    }
    if (topicFilterReason(split.topicFilter, limits.maxTopicBytes) !== null) {
      granted.push(failure(Reason.topicFilterInvalid))
      continue
    }
    if (split.group !== null && s.nl === true)
      throw new MqttError(Reason.protocolError, 'No Local on a shared subscription') // [MQTT-3.8.3-4]
    // The filter without its share prefix: what the client will read (each message is checked again on
    // delivery, so a wildcard filter never carries a topic the principal may not read).
    if (!c.access!.allows('Read', 'MqttTopic', split.topicFilter)) {
      granted.push(failure(Reason.notAuthorized))
      continue
    }
    if (!session.subscriptions.has(s.topic) && session.subscriptions.size >= limits.maxSubscriptionsPerClient) {
      granted.push(failure(Reason.quotaExceeded))
      continue
    }
    const sub: Subscription = {
      filter: s.topic,
      topicFilter: split.topicFilter,
      group: split.group,
      qos: s.qos,
      noLocal: s.nl ?? false,
      retainAsPublished: s.rap ?? false,
      retainHandling: s.rh ?? 0,
      id: subscriptionId,
    }
    try {
      const { existed } = await hub.withClient(c.clientId, () => hub.subscribe(session, sub))
      granted.push(s.qos)
      if (sub.group === null && (sub.retainHandling === 0 || (sub.retainHandling === 1 && !existed)))
        retainedFor.push(sub)
    } catch (error) {
      hub.logger.debug({ err: error, clientId: c.clientId }, 'subscribe failed')
      granted.push(failure(reasonForError(error, 'suback')))
    }
  }
  if (retainedFor.length > 0)
    await hub.retained.catchUp().catch((error: unknown) => {
      hub.logger.warn({ err: error }, 'retained messages of other brokers not read')
    })
  if (c.state === 'closed') return
  c.output.send({ cmd: 'suback', messageId: id, granted })
  for (const sub of retainedFor) sendRetained(c, sub)
}

function sendRetained(c: ConnectionContext, sub: Subscription): void {
  const now = c.hub.broker.now()
  for (const [topic, message] of c.hub.retainedFor(sub.topicFilter)) {
    if (!c.access!.allows('Read', 'MqttTopic', topic)) continue // as Mosquitto: each retained topic is a read
    const expiry = remainingExpiry(message, now)
    if (expiry !== undefined && expiry <= 0) continue
    const qos = Math.min(qosOf(message), sub.qos) as QoS
    if (qos > 0 && !c.outbound.credit.available) continue // inflight window full: a retained copy is not worth queueing
    const messageId = qos > 0 ? c.outbound.reserveRetained(qos as 1 | 2) : undefined
    const options = c.publishWriter.prepare(qos)
    options.retain = true
    options.messageId = messageId
    options.subscriptionIds = sub.id === undefined ? undefined : [sub.id]
    options.expiry = expiry
    const sent = c.publishWriter.send(
      { topic, topicBytes: Buffer.from(topic), hasV5Properties: true },
      message,
      options,
    )
    // Too large for the client: discarded as if delivered [MQTT-3.1.2-25], its packet id and slot freed.
    if (!sent && messageId !== undefined) c.outbound.releaseRetained(messageId)
  }
}

export async function onUnsubscribe(c: ConnectionContext, p: IUnsubscribePacket, frame: Buffer): Promise<void> {
  const id = checkPacketId(p.messageId)
  const session = c.session!
  if (c.version === 5) checkProperties(p.properties, unsubscribeProperties, 'UNSUBSCRIBE')
  const codes: number[] = []
  for (const filter of p.unsubscriptions) {
    if (filter.includes('\ufffd')) checkDecodedText(filter, frameHasReplacementChar(frame), 'topic filter')
    const existed = await c.hub.withClient(c.clientId, () => c.hub.unsubscribe(session, filter))
    codes.push(existed ? Reason.success : Reason.noSubscriptionExisted)
  }
  if (c.state === 'closed') return
  c.output.send(
    c.version === 5
      ? { cmd: 'unsuback', messageId: id, granted: codes }
      : { cmd: 'unsuback', messageId: id, granted: [] },
  )
}
