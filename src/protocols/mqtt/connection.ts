// One MQTT connection: the CONNECT handshake, inbound PUBLISH (QoS 0/1/2, topic aliases, receive maximum),
// SUBSCRIBE/UNSUBSCRIBE, and outbound delivery from the session queue (QoS ≥ 1, persistent sessions),
// shared-subscription queues and the in-memory sink (clean QoS 0). Packets are handled strictly in order;
// control packets (CONNECT, SUBSCRIBE, UNSUBSCRIBE) are awaited before the next packet, PUBLISH is routed
// at once and only its acknowledgement waits (in order) for durability, so publishes pipeline.
import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import type {
  IConnectPacket,
  IDisconnectPacket,
  IPublishPacket,
  ISubscribePacket,
  IUnsubscribePacket,
  Packet,
  QoS,
} from 'mqtt-packet'
import type { QueueConsumer } from '../../broker/queue.js'
import { CreditGroup, type Delivery } from '../../broker/queue-types.js'
import { headerText, type StoredMessage } from '../../broker/types.js'
import { encodePacket, encodePublishHeader, MqttDecoder, MqttFrameError } from './codec.js'
import { connackV3Code, MqttError, Reason, reasonForError } from './errors.js'
import { expiryNever, MqttHub, type Session, type Subscription, sharedQueueName, type Will } from './hub.js'
import {
  type DeliveryView,
  deliveryView,
  outboundProperties,
  type PublishProperties,
  qosOf,
  remainingExpiry,
} from './message.js'
import { PendingDeliveries, type PendingDelivery } from './pending.js'
import {
  checkDecodedText,
  checkPacketId,
  checkPayloadFormat,
  checkProperties,
  checkTopicName,
  connectProperties,
  disconnectProperties,
  frameHasReplacementChar,
  publishProperties,
  subscribeProperties,
  topicFilterReason,
  unsubscribeProperties,
  willProperties,
} from './validate.js'

/** Packets decoded but not yet handled; beyond this, reading pauses. */
const pendingPacketsMax = 256
const emptyPayload = Buffer.alloc(0)
/** A v5 PUBLISH without properties: property length 0. */
const noProperties = Buffer.from([0])

interface Outbound {
  /** Queue the delivery came from, or null for a retained message sent on SUBSCRIBE. */
  queue: string | null
  partition: number
  offset: number
  leaseId: number
  qos: 1 | 2
  key: string
}

/** An inbound publish's acknowledgement: 0 = waiting, 1 = done (value), 2 = failed (value = error). */
interface PendingAck {
  state: 0 | 1 | 2
  value: unknown
  ok: (value: unknown) => Packet
  failed: ((error: unknown) => Packet) | undefined
}

/** A clean session with this many QoS ≥ 1 messages waiting holds publishers back until it is down to LOW. */
const BACKLOG_HIGH = 512
const BACKLOG_LOW = 128

const doneAck: PendingAck = { state: 1, value: undefined, ok: () => ({ cmd: 'pingresp' }), failed: undefined }

let connectionSeq = 0

export class MqttConnection {
  readonly id = `mqtt-conn-${++connectionSeq}`
  readonly #hub: MqttHub
  readonly #stream: Duplex
  readonly #decoder: MqttDecoder
  #state: 'new' | 'connecting' | 'connected' | 'closed' = 'new'
  #version = 4
  session: Session | null = null
  #clientId = ''
  #keepaliveMs = 0
  #lastSeen = Date.now()
  readonly #openedAt = Date.now()
  /** Peer address for the admin API: the TCP socket's, or the one the WebSocket upgrade came from. */
  readonly remoteAddress: string
  #cleanStart = true
  #user: string | undefined
  #will: Will | null = null
  /** Decoded packets not yet handled; entries before #pendingHead are done (no Array#shift per packet). */
  #pending: Array<{ packet: Packet; frame: Buffer }> = []
  #pendingHead = 0
  #pumping = false
  #publishedInBurst = false
  #pausedForInput = false
  #pausedForWrite = false
  /** Paused because some subscriber's socket is congested (publisher flow control, see MqttHub.flow). */
  #pausedForFlow = false
  /** In the hub's congested set: our write backlog is over half the limit. */
  #congested = false
  /** Clean-session backlog: more QoS ≥ 1 messages waiting than BACKLOG_HIGH (publisher flow control too). */
  #backlogged = false
  /** Congested for a whole flow episode: no longer holds publishers back until it catches up. */
  #stalled = false
  #corked = false
  // outbound
  readonly #inflight = new Map<number, Outbound>()
  #nextId = 0
  #credit: CreditGroup
  /** QoS ≥ 1 deliveries of a queue-less (clean) session waiting for inflight room. */
  readonly #waiting: PendingDeliveries
  #sessionConsumer: QueueConsumer | null = null
  readonly #sharedConsumers = new Map<string, QueueConsumer>()
  #clientMaxPacket = Number.POSITIVE_INFINITY
  /** Outbound topic aliases (v5): the client's Topic Alias Maximum and the aliases handed out so far. */
  #clientAliasMax = 0
  readonly #outAliases = new Map<string, number>()
  // inbound
  readonly #aliases = new Map<number, string>()
  #inboundQos1 = 0
  /** Acknowledgements of inbound publishes, in arrival order; entries before #acksHead are sent. */
  readonly #acks: PendingAck[] = []
  #acksHead = 0
  #closing: Promise<void> = Promise.resolve()

  constructor(hub: MqttHub, stream: Duplex, remoteAddress?: string) {
    this.#hub = hub
    this.#stream = stream
    const socket = stream as Partial<Pick<Socket, 'remoteAddress' | 'remotePort'>>
    this.remoteAddress =
      remoteAddress ??
      (socket.remoteAddress === undefined ? 'unknown' : `${socket.remoteAddress}:${socket.remotePort ?? 0}`)
    this.#decoder = new MqttDecoder(hub.limits.maxPacketBytes)
    this.#credit = new CreditGroup(hub.limits.maxInflight)
    this.#waiting = new PendingDeliveries(hub.limits.maxQueuedPerSession)
    hub.connections.add(this)
    stream.on('data', (chunk: Buffer) => this.#onData(chunk))
    stream.on('error', () => this.#teardown(true))
    stream.on('close', () => this.#teardown(true))
    stream.on('end', () => this.#teardown(true))
  }

  get connected(): boolean {
    return this.#state === 'connected'
  }

  /** What the admin API shows of this connection (client id, protocol level, session, subscriptions). */
  describe(): {
    clientId: string
    connectedAt: number
    state: string
    protocolVersion: number
    cleanSession: boolean
    keepAliveSeconds: number
    persistentSession: boolean
    subscriptions: number
    inflight: number
    /** QoS ≥ 1 messages of a queue-less (clean) session waiting for inflight room. */
    waiting: number
    user: string | undefined
  } {
    return {
      clientId: this.#clientId,
      connectedAt: this.#openedAt,
      state: this.#state,
      protocolVersion: this.#version,
      cleanSession: this.#cleanStart,
      keepAliveSeconds: this.#keepaliveMs / 1000,
      persistentSession: this.session?.persistent ?? false,
      subscriptions: this.session?.subscriptions.size ?? 0,
      inflight: this.#inflight.size,
      waiting: this.#waiting.size,
      user: this.#user,
    }
  }

  /**
   * Closed by an administrator: v5 clients get DISCONNECT 0x98 (Administrative action) first. The will is
   * published, as for any server-side close that is not a normal DISCONNECT [MQTT-3.1.2-8].
   */
  closeByAdmin(): void {
    if (this.#version === 5 && this.#state === 'connected')
      this.#send({ cmd: 'disconnect', reasonCode: Reason.administrativeAction })
    this.#teardown(true)
  }

  // ---- input ----

  #onData(chunk: Buffer): void {
    if (this.#state === 'closed') return
    this.#lastSeen = Date.now()
    let packets: Array<{ packet: Packet; frame: Buffer }>
    try {
      packets = this.#decoder.push(chunk)
    } catch (error) {
      this.#frameError(error)
      return
    }
    if (this.#pendingHead === this.#pending.length) {
      this.#pending = packets
      this.#pendingHead = 0
    } else for (const p of packets) this.#pending.push(p)
    if (this.#pending.length - this.#pendingHead > pendingPacketsMax && !this.#pausedForInput) {
      this.#pausedForInput = true
      this.#stream.pause()
    }
    this.#pump()
  }

  #frameError(error: unknown): void {
    const frameError =
      error instanceof MqttFrameError ? error : new MqttFrameError(Reason.malformedPacket, String(error))
    this.#hub.logger.debug({ clientId: this.#clientId, err: frameError.message }, 'bad MQTT frame')
    if (this.#state === 'new' && frameError.badProtocolLevel) {
      // Unknown protocol level: answer in 3.1.1 form, the one every client can read [MQTT-3.1.2-2].
      this.#writeNow(encodePacket({ cmd: 'connack', returnCode: 1, sessionPresent: false }, 4))
    }
    this.#fail(new MqttError(frameError.reason, frameError.message))
  }

  #pump(): void {
    if (this.#pumping) return
    this.#pumping = true
    try {
      while (this.#pendingHead < this.#pending.length && this.#state !== 'closed') {
        const { packet, frame } = this.#pending[this.#pendingHead++]!
        const result = this.#handle(packet, frame)
        if (result !== undefined) {
          result.then(
            () => {
              this.#pumping = false
              this.#pump()
            },
            (error) => {
              this.#pumping = false
              this.#fail(error)
            },
          )
          return
        }
      }
    } catch (error) {
      this.#pumping = false
      this.#fail(error)
      return
    }
    this.#pumping = false
    this.#pending = []
    this.#pendingHead = 0
    if (this.#publishedInBurst) {
      this.#publishedInBurst = false
      // Subscribers cannot keep up: stop reading publishes until their sockets drain (bounded wait), rather
      // than accept messages only to drop them at their full write buffers.
      if (this.#hub.congested.size > 0 && !this.#pausedForFlow && this.#state !== 'closed') {
        this.#pausedForFlow = true
        this.#stream.pause()
        this.#hub.waitForFlow(() => {
          this.#pausedForFlow = false
          this.#resumeIfIdle()
        })
      }
    }
    if (this.#pausedForInput && this.#state !== 'closed') {
      this.#pausedForInput = false
      this.#resumeIfIdle()
    }
  }

  #handle(packet: Packet, frame: Buffer): Promise<void> | undefined {
    if (this.#state === 'new') {
      if (packet.cmd !== 'connect')
        throw new MqttError(Reason.protocolError, `first packet must be CONNECT, got ${packet.cmd}`)
      this.#state = 'connecting'
      return this.#onConnect(packet, frame)
    }
    switch (packet.cmd) {
      case 'publish':
        this.#publishedInBurst = true
        this.#onPublish(packet, frame)
        return undefined
      case 'puback':
        this.#onPuback(checkPacketId(packet.messageId))
        return undefined
      case 'pubrec':
        this.#onPubrec(checkPacketId(packet.messageId), packet.reasonCode ?? 0)
        return undefined
      case 'pubrel':
        this.#onPubrel(checkPacketId(packet.messageId))
        return undefined
      case 'pubcomp':
        this.#onPubcomp(checkPacketId(packet.messageId))
        return undefined
      case 'subscribe':
        return this.#onSubscribe(packet, frame)
      case 'unsubscribe':
        return this.#onUnsubscribe(packet, frame)
      case 'pingreq':
        this.#send({ cmd: 'pingresp' })
        return undefined
      case 'disconnect':
        this.#onDisconnect(packet)
        return undefined
      case 'connect':
        throw new MqttError(Reason.protocolError, 'second CONNECT') // [MQTT-3.1.0-2]
      default:
        throw new MqttError(Reason.protocolError, `unexpected ${packet.cmd} from a client`)
    }
  }

  // ---- CONNECT ----

  async #onConnect(p: IConnectPacket, frame: Buffer): Promise<void> {
    this.#version = p.protocolVersion ?? 4
    const v5 = this.#version === 5
    const limits = this.#hub.limits
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
        throw this.#refuse(Reason.badAuthenticationMethod, 'enhanced authentication is not supported')
      this.#clientMaxPacket = p.properties?.maximumPacketSize ?? Number.POSITIVE_INFINITY
      this.#clientAliasMax = Math.min(p.properties?.topicAliasMaximum ?? 0, this.#hub.limits.topicAliasMax)
      this.#credit.limit = Math.min(limits.maxInflight, p.properties?.receiveMaximum ?? 65535)
    }
    if (this.#hub.clientsConnected >= limits.maxConnections)
      throw this.#refuse(Reason.quotaExceeded, 'too many connections')
    let clientId = p.clientId
    let assigned = false
    if (clientId === '') {
      if (!v5 && !p.clean)
        throw this.#refuse(Reason.clientIdentifierNotValid, 'empty client identifier needs clean session') // [MQTT-3.1.3-8]
      clientId = `wharf-${randomUUID()}`
      assigned = true
    }
    if (Buffer.byteLength(clientId) > limits.maxClientIdBytes)
      throw this.#refuse(Reason.clientIdentifierNotValid, 'client identifier too long')
    if (p.will !== undefined) {
      const will = p.will
      text(will.topic, 'will topic')
      if ((will.qos ?? 0) > 2) throw new MqttError(Reason.malformedPacket, 'will QoS 3')
      try {
        checkTopicName(will.topic, limits.maxTopicBytes)
      } catch (error) {
        throw this.#refuse(Reason.topicNameInvalid, (error as Error).message)
      }
      const payload = Buffer.isBuffer(will.payload) ? will.payload : Buffer.from(will.payload)
      const { willDelayInterval, ...properties } = will.properties ?? {}
      this.#will = {
        topic: will.topic,
        payload,
        qos: (will.qos ?? 0) as 0 | 1 | 2,
        retain: will.retain ?? false,
        properties: Object.keys(properties).length > 0 ? (properties as PublishProperties) : undefined,
        delayS: willDelayInterval ?? 0,
      }
    }
    this.#clientId = clientId
    this.#cleanStart = p.clean ?? true
    this.#user = p.username
    this.#keepaliveMs = (p.keepalive ?? 0) * 1000
    const expiryS = v5 ? (p.properties?.sessionExpiryInterval ?? 0) : p.clean ? 0 : expiryNever
    const persistent = expiryS > 0
    const cleanStart = p.clean ?? true
    const { session, present } = await this.#hub.withClient(clientId, async () => {
      const previous = this.#hub.sessions.get(clientId)?.connection
      if (previous !== undefined && previous !== null && previous !== this) previous.takeover()
      return this.#hub.attach(clientId, cleanStart, persistent, expiryS)
    })
    if (this.#state === 'closed') {
      // The client went away during the handshake.
      if (!session.persistent)
        await this.#hub.withClient(clientId, () =>
          session.connection === null ? this.#hub.destroy(session) : Promise.resolve(),
        )
      return
    }
    session.connection = this
    this.session = session
    this.#state = 'connected'
    this.#hub.stats.connectionsTotal++
    this.#send({
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
    for (const id of session.outRel) this.#send({ cmd: 'pubrel', messageId: id })
    this.consumeSession()
    for (const sub of session.subscriptions.values()) if (sub.group !== null) this.consumeShared(sub)
  }

  /** A refusal during CONNECT: CONNACK with the reason, then close. */
  #refuse(reason: number, message: string): MqttError {
    const v5 = this.#version === 5
    this.#writeNow(
      encodePacket(
        {
          cmd: 'connack',
          sessionPresent: false,
          ...(v5 ? { reasonCode: reason } : { returnCode: connackV3Code(reason) }),
        },
        this.#version,
      ),
    )
    this.#refused = true
    return new MqttError(reason, message)
  }

  #refused = false

  // ---- inbound PUBLISH ----

  #onPublish(p: IPublishPacket, frame: Buffer): void {
    const v5 = this.#version === 5
    const limits = this.#hub.limits
    const session = this.session!
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
    if (topic.startsWith('$SYS/') || topic === '$SYS') {
      // The broker's own statistics: clients may not write them.
      if (qos > 0)
        this.#chainAck(Promise.resolve(0), () => ({
          cmd: qos === 1 ? 'puback' : 'pubrec',
          messageId: id,
          ...(v5 ? { reasonCode: Reason.notAuthorized } : {}),
        }))
      return
    }
    const work = this.#hub.publish({ topic, qos, retain: p.retain, payload, properties, clientId: this.#clientId })
    if (qos === 0) {
      work.catch((error) => this.#hub.logger.debug({ err: error, clientId: this.#clientId }, 'QoS 0 publish failed'))
      return
    }
    if (qos === 1) {
      this.#inboundQos1++
      this.#chainAck(
        work,
        (routed) => {
          this.#inboundQos1--
          return {
            cmd: 'puback',
            messageId: id,
            ...(v5 && routed === 0 ? { reasonCode: Reason.noMatchingSubscribers } : {}),
          }
        },
        (error) => {
          this.#inboundQos1--
          return { cmd: 'puback', messageId: id, reasonCode: reasonForError(error) }
        },
      )
      return
    }
    session.inRel.add(id)
    const saved = work.then(async (routed) => {
      await this.#hub.save(session)
      return routed
    })
    this.#chainAck(
      saved,
      (routed) => ({
        cmd: 'pubrec',
        messageId: id,
        ...(v5 && routed === 0 ? { reasonCode: Reason.noMatchingSubscribers } : {}),
      }),
      (error) => {
        session.inRel.delete(id)
        return { cmd: 'pubrec', messageId: id, reasonCode: reasonForError(error) }
      },
    )
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
    const acks = this.#acks
    while (this.#acksHead < acks.length) {
      const entry = acks[this.#acksHead]!
      if (entry.state === 0) break
      acks[this.#acksHead++] = doneAck
      if (this.#state === 'closed') continue
      if (entry.state === 1) {
        this.#send(entry.ok(entry.value))
        continue
      }
      this.#hub.logger.debug({ err: entry.value, clientId: this.#clientId }, 'publish failed')
      const packet = entry.failed?.(entry.value)
      if (this.#version === 5 && packet !== undefined) this.#send(packet)
      else this.#fail(new MqttError(reasonForError(entry.value), String(entry.value)))
    }
    if (this.#acksHead === acks.length) {
      acks.length = 0
      this.#acksHead = 0
    } else if (this.#acksHead >= 1024) {
      acks.splice(0, this.#acksHead)
      this.#acksHead = 0
    }
  }

  #onPubrel(id: number): void {
    const session = this.session!
    const known = session.inRel.delete(id)
    const saved = known ? this.#hub.save(session) : Promise.resolve()
    this.#chainAck(saved, () => ({
      cmd: 'pubcomp',
      messageId: id,
      ...(this.#version === 5 && !known ? { reasonCode: Reason.packetIdentifierNotFound } : {}),
    }))
  }

  // ---- outbound acknowledgements ----

  #onPuback(id: number): void {
    const out = this.#inflight.get(id)
    if (out === undefined || out.qos !== 1) return // unknown id: a late duplicate; nothing to settle
    this.#settle(id, out)
  }

  #onPubrec(id: number, reasonCode: number): void {
    const out = this.#inflight.get(id)
    const session = this.session!
    if (out === undefined || out.qos !== 2) {
      // Already released (a resend after reconnect crossed our PUBREL): release again.
      if (session.outRel.has(id)) this.#send({ cmd: 'pubrel', messageId: id })
      else if (this.#version === 5)
        this.#send({ cmd: 'pubrel', messageId: id, reasonCode: Reason.packetIdentifierNotFound })
      return
    }
    this.#settle(id, out)
    if (reasonCode >= 0x80) return // the receiver refused it: the exchange ends here
    session.outRel.add(id)
    session.idsInUse.add(id)
    void this.#hub.save(session).catch(() => {})
    this.#send({ cmd: 'pubrel', messageId: id })
  }

  #onPubcomp(id: number): void {
    const session = this.session!
    if (!session.outRel.delete(id)) return
    session.idsInUse.delete(id)
    void this.#hub.save(session).catch(() => {})
  }

  /** A QoS 1/2 delivery is done from the queue's point of view: ack it, free its packet id. */
  #settle(id: number, out: Outbound): void {
    this.#inflight.delete(id)
    const session = this.session!
    session.packetIds.delete(out.key)
    session.idsInUse.delete(id)
    if (out.queue === null) {
      this.#credit.release()
      // Refill the window in batches of a quarter of it, not one PUBLISH per PUBACK: under load that turns
      // many one-packet socket writes into a few larger ones (the client still has the rest in flight).
      const { limit, used } = this.#credit
      if (this.#waiting.size > 0 && (limit === 0 || limit - used >= Math.max(1, limit >> 2))) {
        while (this.#waiting.size > 0 && this.#credit.available && this.#state === 'connected') {
          this.#sendVolatile(this.#waiting.shift()!)
        }
        if (this.#backlogged && this.#waiting.size <= BACKLOG_LOW) {
          this.#backlogged = false
          this.#updateFlow()
        }
      }
      return
    }
    this.#hub.broker.getQueue(out.queue)?.settle(out.partition, out.offset, out.leaseId)
  }

  // ---- SUBSCRIBE / UNSUBSCRIBE ----

  async #onSubscribe(p: ISubscribePacket, frame: Buffer): Promise<void> {
    const v5 = this.#version === 5
    const limits = this.#hub.limits
    const session = this.session!
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
        split = MqttHub.splitShare(s.topic)
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
        const { existed } = await this.#hub.withClient(this.#clientId, () => this.#hub.subscribe(session, sub))
        granted.push(s.qos)
        if (sub.group === null && (sub.retainHandling === 0 || (sub.retainHandling === 1 && !existed)))
          retainedFor.push(sub)
      } catch (error) {
        this.#hub.logger.debug({ err: error, clientId: this.#clientId }, 'subscribe failed')
        granted.push(failure(reasonForError(error)))
      }
    }
    if (this.#state === 'closed') return
    this.#send({ cmd: 'suback', messageId: id, granted })
    for (const sub of retainedFor) this.#sendRetained(sub)
  }

  #sendRetained(sub: Subscription): void {
    const now = this.#hub.broker.now()
    for (const [topic, message] of this.#hub.retainedFor(sub.topicFilter)) {
      const expiry = remainingExpiry(message, now)
      if (expiry !== undefined && expiry <= 0) continue
      const qos = Math.min(qosOf(message), sub.qos) as QoS
      if (qos > 0 && !this.#credit.available) continue // inflight window full: a retained copy is not worth queueing
      let messageId: number | undefined
      if (qos > 0) {
        messageId = this.#allocateId()
        this.#credit.used++
        this.#inflight.set(messageId, {
          queue: null,
          partition: 0,
          offset: -1,
          leaseId: 0,
          qos: qos as 1 | 2,
          key: `r\u0000${messageId}`,
        })
      }
      this.#sendPublish(
        { topic, topicBytes: Buffer.from(topic), hasV5Properties: true },
        message,
        qos,
        true,
        false,
        messageId,
        sub.id === undefined ? undefined : [sub.id],
        expiry,
      )
    }
  }

  async #onUnsubscribe(p: IUnsubscribePacket, frame: Buffer): Promise<void> {
    const id = checkPacketId(p.messageId)
    const session = this.session!
    if (this.#version === 5) checkProperties(p.properties, unsubscribeProperties, 'UNSUBSCRIBE')
    const codes: number[] = []
    for (const filter of p.unsubscriptions) {
      if (filter.includes('\ufffd')) checkDecodedText(filter, frameHasReplacementChar(frame), 'topic filter')
      const existed = await this.#hub.withClient(this.#clientId, () => this.#hub.unsubscribe(session, filter))
      codes.push(existed ? Reason.success : Reason.noSubscriptionExisted)
    }
    if (this.#state === 'closed') return
    this.#send(
      this.#version === 5
        ? { cmd: 'unsuback', messageId: id, granted: codes }
        : { cmd: 'unsuback', messageId: id, granted: [] },
    )
  }

  // ---- DISCONNECT ----

  #onDisconnect(p: IDisconnectPacket): void {
    const session = this.session!
    if (this.#version === 5) {
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
    const withWill = this.#version === 5 && p.reasonCode === Reason.disconnectWithWill
    if (!withWill) this.#will = null // [MQTT-3.1.2-10]
    this.#teardown(withWill)
  }

  // ---- outbound delivery ----

  /** Starts consuming the session queue (when it exists and we are connected). */
  consumeSession(): void {
    const session = this.session
    if (this.#state !== 'connected' || session === null || this.#sessionConsumer !== null) return
    if (this.#hub.broker.getQueue(session.queueName) === undefined) return
    this.#sessionConsumer = this.#hub.broker.consume(session.queueName, {
      owner: this.id,
      creditGroup: this.#credit,
      onDeliver: (deliveries) => this.#onDeliver(deliveries, null),
    })
  }

  consumeShared(sub: Subscription): void {
    const queue = sharedQueueName(sub.group ?? '', sub.topicFilter)
    if (
      this.#state !== 'connected' ||
      this.#sharedConsumers.has(queue) ||
      this.#hub.broker.getQueue(queue) === undefined
    )
      return
    this.#sharedConsumers.set(
      queue,
      this.#hub.broker.consume(queue, {
        owner: this.id,
        creditGroup: this.#credit,
        onDeliver: (deliveries) => this.#onDeliver(deliveries, sub),
      }),
    )
  }

  stopShared(queue: string): void {
    if (!this.#sharedConsumers.delete(queue)) return
    this.#hub.broker.getQueue(queue)?.releaseOwner(this.id)
  }

  /** Subscriptions of this session a message matched (the dotted-topic fallback maps RabbitMQ's lossy keys). */
  #matches(message: StoredMessage, topic: string): Subscription[] {
    const out: Subscription[] = []
    const trie = this.session!.trie
    trie.match(topic, (sub) => out.push(sub))
    if (out.length === 0) {
      const routed = headerText(message.headers, 'wharf.routing-key')
      if (routed !== undefined) trie.match(routed.replaceAll('*', '+').replaceAll('.', '/'), (sub) => out.push(sub))
    }
    return out
  }

  /** QoS 0 message from the in-memory sink (clean sessions). */
  deliverSink(message: StoredMessage): void {
    if (this.#state !== 'connected') return
    const session = this.session!
    const view = deliveryView(message)
    const subs = this.#matches(message, view.topic)
    if (subs.length === 0) return
    // The session queue delivers this message too (an overlapping queued subscription): one copy only.
    if (subs.some((s) => session.queued(s))) return
    if (subs.every((s) => s.noLocal) && this.#isLocal(view)) return
    let subQos = 0
    for (const s of subs) if (s.qos > subQos) subQos = s.qos
    const qos = Math.min(view.qos, subQos) as QoS
    if (qos > 0) {
      const retain = view.retain && subs.some((s) => s.retainAsPublished)
      const item: PendingDelivery = { message, view, qos: qos as 1 | 2, retain, ids: subIds(subs) }
      if (this.#waiting.size === 0 && this.#credit.available) this.#sendVolatile(item)
      else if (!this.#waiting.push(item)) this.#hub.stats.dropped++
      else if (!this.#backlogged && this.#waiting.size >= BACKLOG_HIGH) {
        this.#backlogged = true
        this.#updateFlow()
      }
      return
    }
    if (this.#stream.writableLength > this.#hub.limits.maxWriteBufferBytes) {
      this.#hub.stats.dropped++
      return
    }
    const expiry = viewExpiry(view, message, this.#hub.broker.now())
    if (expiry !== undefined && expiry <= 0) return
    this.#sendPublish(
      view,
      message,
      0,
      view.retain && subs.some((s) => s.retainAsPublished),
      false,
      undefined,
      subIds(subs),
      expiry,
    )
  }

  /** Sends a QoS 1/2 delivery of a session without a queue; the inflight window has room. */
  #sendVolatile(item: PendingDelivery): void {
    const expiry = viewExpiry(item.view, item.message, this.#hub.broker.now())
    if (expiry !== undefined && expiry <= 0) return
    const id = this.#allocateId()
    const out: Outbound = { queue: null, partition: 0, offset: -1, leaseId: 0, qos: item.qos, key: `v\u0000${id}` }
    this.#credit.used++
    this.#inflight.set(id, out)
    if (!this.#sendPublish(item.view, item.message, item.qos, item.retain, false, id, item.ids, expiry)) {
      this.#settle(id, out) // too large for the client: discarded as if delivered [MQTT-3.1.2-25]
    }
  }

  #isLocal(view: DeliveryView): boolean {
    if (view.from === undefined) return false
    this.#clientIdBytes ??= Buffer.from(this.#clientId)
    return view.from.equals(this.#clientIdBytes)
  }

  #clientIdBytes: Buffer | undefined

  #onDeliver(deliveries: Delivery[], shared: Subscription | null): void {
    const session = this.session
    if (this.#state !== 'connected' || session === null) return // released with the owner on teardown
    const now = this.#hub.broker.now()
    // One batch per drain of one queue: its packets leave in one writev (see #write).
    for (const d of deliveries) {
      const message = d.message
      const view = deliveryView(message)
      const subs = shared !== null ? [shared] : this.#matches(message, view.topic)
      const expiry = viewExpiry(view, message, now)
      if (
        subs.length === 0 ||
        (expiry !== undefined && expiry <= 0) ||
        (subs.every((s) => s.noLocal) && this.#isLocal(view))
      ) {
        this.#hub.broker.getQueue(d.queue)?.settle(d.partition, d.offset, d.leaseId)
        continue
      }
      let subQos = 0
      for (const s of subs) if (s.qos > subQos) subQos = s.qos
      const qos = Math.min(view.qos, subQos) as QoS
      const retain = view.retain && subs.some((s) => s.retainAsPublished)
      if (qos === 0) {
        if (this.#stream.writableLength > this.#hub.limits.maxWriteBufferBytes) this.#hub.stats.dropped++
        else this.#sendPublish(view, message, 0, retain, false, undefined, subIds(subs), expiry)
        this.#hub.broker.getQueue(d.queue)?.settle(d.partition, d.offset, d.leaseId)
        continue
      }
      const key = `${d.queue}\u0000${d.partition}\u0000${d.offset}`
      let id = session.packetIds.get(key)
      if (id === undefined) {
        id = this.#allocateId()
        session.packetIds.set(key, id)
      }
      const out: Outbound = {
        queue: d.queue,
        partition: d.partition,
        offset: d.offset,
        leaseId: d.leaseId,
        qos: qos as 1 | 2,
        key,
      }
      this.#inflight.set(id, out)
      if (!this.#sendPublish(view, message, qos, retain, d.redelivered, id, subIds(subs), expiry)) {
        // Too large for the client (its Maximum Packet Size): discarded as if delivered [MQTT-3.1.2-25].
        this.#settle(id, out)
      }
    }
  }

  #allocateId(): number {
    const used = this.session!.idsInUse
    for (let i = 0; i < 0xffff; i++) {
      this.#nextId = (this.#nextId % 0xffff) + 1
      if (!used.has(this.#nextId) && !this.#inflight.has(this.#nextId)) {
        used.add(this.#nextId)
        return this.#nextId
      }
    }
    throw new MqttError(Reason.quotaExceeded, 'no free packet identifier')
  }

  /**
   * Writes a PUBLISH; false when it exceeds the client's Maximum Packet Size and was not sent. Without v5
   * properties (every 3.1.1 delivery) the header is built here and the payload written after it as is:
   * the stored payload buffer, shared by every subscriber, is never copied or re-encoded.
   */
  #sendPublish(
    view: { topic: string; topicBytes: Buffer | undefined; hasV5Properties: boolean },
    message: StoredMessage,
    qos: QoS,
    retain: boolean,
    dup: boolean,
    messageId: number | undefined,
    ids: number[] | undefined,
    expiry: number | undefined,
  ): boolean {
    const payload = message.value ?? emptyPayload
    const v5 = this.#version === 5
    const topicBytes = view.topicBytes
    if (
      topicBytes !== undefined &&
      topicBytes.length <= 0xffff &&
      (!v5 || (!view.hasV5Properties && ids === undefined && expiry === undefined && this.#clientAliasMax === 0))
    ) {
      const header = encodePublishHeader(
        topicBytes,
        payload.length,
        qos,
        retain,
        qos > 0 && dup,
        messageId ?? 0,
        v5 ? noProperties : null,
        this.#clientMaxPacket,
      )
      if (header === null) {
        this.#hub.stats.dropped++
        return false
      }
      this.#hub.stats.sent++
      this.#write(header)
      if (payload.length > 0) this.#write(payload)
      return true
    }
    const packet: IPublishPacket = {
      cmd: 'publish',
      topic: view.topic,
      payload,
      qos,
      retain,
      dup: qos > 0 && dup,
    }
    if (messageId !== undefined) packet.messageId = messageId
    if (v5) {
      const properties = outboundProperties(message, expiry)
      if (ids !== undefined) {
        const all = properties ?? {}
        all.subscriptionIdentifier = ids.length === 1 ? ids[0]! : ids
        packet.properties = all
      } else if (properties !== undefined) packet.properties = properties
      if (this.#clientAliasMax > 0) this.#alias(packet)
    }
    const bytes = encodePacket(packet, this.#version)
    if (bytes.length > this.#clientMaxPacket) {
      this.#hub.stats.dropped++
      return false
    }
    this.#hub.stats.sent++
    this.#write(bytes)
    return true
  }

  /**
   * Outbound topic alias (v5, when the client accepts them): the first PUBLISH of a topic carries topic and
   * alias, later ones only the alias. Aliases are handed out first come, first served up to the client's
   * maximum and never remapped, so a resend can never meet a stale mapping.
   */
  #alias(packet: IPublishPacket): void {
    let alias = this.#outAliases.get(packet.topic)
    if (alias === undefined) {
      if (this.#outAliases.size >= this.#clientAliasMax) return
      alias = this.#outAliases.size + 1
      this.#outAliases.set(packet.topic, alias)
    } else packet.topic = ''
    packet.properties = { ...packet.properties, topicAlias: alias }
  }

  // ---- output ----

  #send(packet: Packet): void {
    if (this.#state === 'closed') return
    this.#write(encodePacket(packet, this.#version))
  }

  /** Writes are corked until the end of the tick: one writev per burst of packets. */
  #write(bytes: Buffer): void {
    const stream = this.#stream
    if (!this.#corked) {
      this.#corked = true
      stream.cork()
      process.nextTick(() => {
        this.#corked = false
        stream.uncork()
      })
    }
    stream.write(bytes)
    if (!this.#congested && stream.writableLength > this.#hub.limits.maxWriteBufferBytes / 2) {
      this.#congested = true
      this.#updateFlow()
      stream.once('drain', () => {
        this.#congested = false
        this.#updateFlow()
      })
    }
    if (stream.writableLength > this.#hub.limits.maxWriteBufferBytes && !this.#pausedForWrite) {
      // The client does not read: stop reading what it sends until it catches up.
      this.#pausedForWrite = true
      stream.pause()
      stream.once('drain', () => {
        this.#pausedForWrite = false
        this.#resumeIfIdle()
      })
    }
  }

  #resumeIfIdle(): void {
    if (!this.#pausedForInput && !this.#pausedForWrite && !this.#pausedForFlow && this.#state !== 'closed')
      this.#stream.resume()
  }

  /**
   * Membership in the hub's congested set, which pauses publishers (MqttHub.waitForFlow): while our socket
   * backlog or waiting list is high — unless we already stalled a whole episode, then only once we drained.
   */
  #updateFlow(): void {
    if ((this.#congested || this.#backlogged) && this.#state !== 'closed') {
      if (!this.#stalled) this.#hub.congested.add(this)
      return
    }
    this.#stalled = false
    this.#hub.decongested(this)
  }

  /** The hub gave up waiting for us (flowStallMs): stop pausing publishers until we catch up. */
  markStalled(): void {
    this.#stalled = true
  }

  #writeNow(bytes: Buffer): void {
    if (!this.#stream.destroyed) this.#stream.write(bytes)
  }

  // ---- closing ----

  /** A protocol error or refusal: v5 gets a DISCONNECT with the reason, then the connection closes. */
  #fail(error: unknown): void {
    if (this.#state === 'closed') return
    const reason = reasonForError(error)
    if (!(error instanceof MqttError))
      this.#hub.logger.warn({ err: error, clientId: this.#clientId }, 'MQTT connection failed')
    else this.#hub.logger.debug({ reason, err: error.message, clientId: this.#clientId }, 'MQTT protocol error')
    if (this.#version === 5 && this.#state === 'connected') this.#send({ cmd: 'disconnect', reasonCode: reason })
    else if (this.#state === 'connecting' && !this.#refused && this.#version === 5) {
      this.#writeNow(encodePacket({ cmd: 'connack', sessionPresent: false, reasonCode: reason }, 5))
    }
    this.#teardown(true)
  }

  /** Called by a newer connection with the same client id [MQTT-3.1.4-3]. */
  takeover(): void {
    if (this.#version === 5 && this.#state === 'connected')
      this.#send({ cmd: 'disconnect', reasonCode: Reason.sessionTakenOver })
    this.#teardown(true)
  }

  /** Broker shutdown: no will, session kept as it is. */
  shutdown(): Promise<void> {
    if (this.#version === 5 && this.#state === 'connected') this.#send({ cmd: 'disconnect', reasonCode: 0x8b })
    this.#will = null
    this.#teardown(false)
    return this.#closing
  }

  /** Keep-alive (1.5 × the client's interval [MQTT-3.1.2-24]) and the CONNECT deadline, from the hub's tick. */
  checkTimers(now: number): void {
    if (this.#state === 'new' && now - this.#openedAt > this.#hub.limits.connectTimeoutMs) this.#teardown(false)
    else if (this.#state === 'connected' && this.#keepaliveMs > 0 && now - this.#lastSeen > this.#keepaliveMs * 1.5) {
      if (this.#version === 5) this.#send({ cmd: 'disconnect', reasonCode: Reason.keepAliveTimeout })
      this.#teardown(true)
    }
  }

  #teardown(publishWill: boolean): void {
    if (this.#state === 'closed') return
    const wasConnected = this.#state === 'connected'
    this.#state = 'closed'
    this.#hub.connections.delete(this)
    this.#updateFlow()
    const stream = this.#stream
    if (!stream.destroyed) {
      // Flush what is queued (a DISCONNECT or CONNACK with the reason), then close; a peer that does not
      // read gets a second to take it.
      stream.end(() => stream.destroy())
      setTimeout(() => stream.destroy(), 1000).unref()
    }
    const broker = this.#hub.broker
    const session = this.session
    if (session !== null) broker.getQueue(session.queueName)?.releaseOwner(this.id)
    for (const queue of this.#sharedConsumers.keys()) broker.getQueue(queue)?.releaseOwner(this.id)
    this.#sharedConsumers.clear()
    this.#sessionConsumer = null
    this.#inflight.clear()
    this.#waiting.clear()
    if (!wasConnected || session === null) return
    if (session.connection === this) session.connection = null
    const will = this.#will
    this.#will = null
    if (publishWill && will !== null)
      this.#hub.scheduleWill(this.#clientId, will, session.persistent ? session.expiryS : 0)
    this.#closing = this.#hub
      .withClient(this.#clientId, async () => {
        // Taken over (or ended) meanwhile: the session is someone else's now.
        if (session.connection !== null || session.destroyed) return
        if (session.persistent) {
          session.disconnectedAt = broker.now()
          await this.#hub.save(session)
          this.#hub.scheduleExpiry(session)
        } else await this.#hub.destroy(session)
      })
      .catch((error) => this.#hub.logger.warn({ err: error, clientId: this.#clientId }, 'session close failed'))
  }
}

/** Seconds of life left (see remainingExpiry), from an already scanned message. */
function viewExpiry(view: DeliveryView, message: StoredMessage, now: number): number | undefined {
  if (view.expiryText === undefined) return undefined
  return Number(view.expiryText.toString('latin1')) - Math.floor((now - message.timestamp) / 1000)
}

function subIds(subs: Subscription[]): number[] | undefined {
  let ids: number[] | undefined
  for (const s of subs) {
    if (s.id === undefined) continue
    ids ??= []
    ids.push(s.id)
  }
  return ids
}
