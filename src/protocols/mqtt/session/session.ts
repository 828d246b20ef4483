// The data the MQTT hub is made of: limits and their defaults, a session (in memory, and the record kept in
// the catalog for a persistent one), a subscription, a will, and the queue names derived from client ids
// and share groups, and the SessionOwner a session's connection is to it. No behaviour beyond naming: the
// hub and its parts (lifecycle.ts, bindings.ts, wills.ts) act on these.
import { createHash } from 'node:crypto'
import type { StoredMessage } from '../../../broker/message.js'
import { MqttTrie, parseSharedSubscription } from '../../../broker/routing/match/index.js'
import type { InboundPublish } from '../wire/message.js'
import { retainedStream } from './retained.js'

export interface MqttLimits {
  /** Largest packet accepted and advertised (v5 Maximum Packet Size). */
  maxPacketBytes: number
  maxTopicBytes: number
  maxSubscriptionsPerClient: number
  /** Unacked QoS 1/2 messages per direction per connection (v5 Receive Maximum). */
  maxInflight: number
  /**
   * Payload bytes of a clean session's unacked QoS 1/2 deliveries (one message always fits), as Mosquitto's
   * max_inflight_bytes: what a client that does not read can make the socket buffer hold.
   */
  maxInflightBytes: number
  /**
   * Messages kept for a session: beyond, the new message is dropped (Mosquitto's max_queued_messages), by a
   * persistent session's queue (drop-new overflow) as by a clean session's in-memory waiting list.
   */
  maxQueuedPerSession: number
  /**
   * Payload bytes a session holds for a subscriber that is offline or does not keep up (Mosquitto's
   * max_queued_bytes): beyond, the new message is dropped, as for maxQueuedPerSession.
   */
  maxQueuedBytesPerSession: number
  /**
   * Mosquitto's queue_qos0_messages (default false): a persistent session that was offline gets the messages
   * that reached it then only at QoS 1 and 2; those it would get at QoS 0 are dropped when it comes back.
   */
  queueQos0Messages: boolean
  maxConnections: number
  /** Socket write backlog beyond which QoS 0 messages are dropped and reading pauses. */
  maxWriteBufferBytes: number
  /** Client → server topic aliases per connection. */
  topicAliasMax: number
  /** Topics with a retained message (a new topic beyond is not retained; the message is still delivered). */
  maxRetained: number
  /** Bytes (topic, payload, properties) of all retained messages, which live in memory. */
  maxRetainedBytes: number
  /** Bytes of one retained message; a larger one is delivered but not retained. */
  maxRetainedMessageBytes: number
  maxClientIdBytes: number
  /** Period of $SYS statistics, ms (0 disables). */
  sysIntervalMs: number
  /** A connection must send CONNECT within this long. */
  connectTimeoutMs: number
}

export const defaultLimits: MqttLimits = {
  maxPacketBytes: 1024 * 1024,
  maxTopicBytes: 4096,
  maxSubscriptionsPerClient: 1000,
  maxInflight: 128,
  maxInflightBytes: 16 * 1024 * 1024,
  maxQueuedPerSession: 100_000,
  maxQueuedBytesPerSession: 32 * 1024 * 1024,
  queueQos0Messages: false,
  maxConnections: 100_000,
  maxWriteBufferBytes: 1024 * 1024,
  topicAliasMax: 64,
  maxRetained: 100_000,
  maxRetainedBytes: 64 * 1024 * 1024,
  maxRetainedMessageBytes: 1024 * 1024,
  maxClientIdBytes: 1024,
  sysIntervalMs: 10_000,
  connectTimeoutMs: 10_000,
}

export const exchange = 'amq.topic'
export const sessionKind = 'mqtt-session'
/** Names of the queues a persistent session and a shared subscription keep their messages in. */
const SESSION_QUEUE_PREFIX = 'mqtt.session.'
const SHARED_QUEUE_PREFIX = 'mqtt.share.'
/** Session Expiry Interval meaning "never" [MQTT-3.1.2-11]. */
export const expiryNever = 0xffffffff

export interface Subscription {
  /** As subscribed, `$share/...` included. */
  filter: string
  /** The topic filter bound on amq.topic. */
  topicFilter: string
  group: string | null
  qos: 0 | 1 | 2
  noLocal: boolean
  retainAsPublished: boolean
  retainHandling: number
  id: number | undefined
}

export interface SessionRecord {
  expiryS: number
  subscriptions: Subscription[]
  inRel: number[]
  outRel: number[]
  disconnectedAt: number | null
  /** In a cluster, the node id of the broker the session's client is connected to (absent when disconnected). */
  node?: number
  /** Packet ids of deliveries in flight, by delivery key (absent in records written before they were kept). */
  packetIds?: Array<[string, number]>
}

export interface Will {
  topic: string
  payload: Buffer
  qos: 0 | 1 | 2
  retain: boolean
  properties: InboundPublish['properties']
  delayS: number
}

export class Session {
  readonly clientId: string
  readonly queueName: string
  readonly sinkId: string
  /** Kept after its connection closes (v3 clean session 0, v5 Session Expiry > 0). */
  persistent: boolean
  /** Fixed at creation: a persistent session's subscriptions all go through its durable queue. */
  readonly durableQueue: boolean
  expiryS: number
  readonly subscriptions = new Map<string, Subscription>()
  /** Non-shared subscriptions, to find the ones a delivered message matched. */
  readonly trie = new MqttTrie<Subscription>()
  /** Inbound QoS 2 packet ids awaiting PUBREL: a retried PUBLISH with one of them is not forwarded again. */
  readonly inRel = new Set<number>()
  /** Outbound QoS 2 packet ids released (PUBREL sent) and awaiting PUBCOMP. */
  readonly outRel = new Set<number>()
  /** Packet id of each delivery in flight, so a resend after reconnect keeps its id [MQTT-4.4.0-1]. */
  readonly packetIds = new Map<string, number>()
  readonly idsInUse = new Set<number>()
  /** Deliveries whose PUBLISH went out before a restart (their ids were restored): resent with DUP. */
  readonly sentBeforeRestart = new Set<string>()
  connection: SessionOwner | null = null
  destroyed = false
  disconnectedAt: number | null = null
  /**
   * disconnectedAt as this broker last wrote or read it in the catalog: when the catalog says otherwise at
   * expiry, another broker of the cluster had the session since, and that broker expires it.
   */
  catalogDisconnectedAt: number | null = null
  expiryTimer: NodeJS.Timeout | null = null
  sinkRegistered = false

  constructor(clientId: string, persistent: boolean, expiryS: number) {
    this.clientId = clientId
    this.persistent = persistent
    this.durableQueue = persistent
    this.expiryS = expiryS
    this.queueName = `${SESSION_QUEUE_PREFIX}${safeName(clientId)}`
    this.sinkId = `mqtt:${clientId}`
  }

  /**
   * Whether messages for this subscription go through the session queue (else the in-memory sink). Only a
   * session that outlives its connection needs one; a clean session's QoS 1/2 messages wait in memory.
   */
  queued(_sub: Subscription): boolean {
    return this.durableQueue
  }
}

/** Queue-name-safe form of an arbitrary string: itself when short, else a hash. */
function safeName(text: string): string {
  return Buffer.byteLength(text) <= 180 ? text : `#${createHash('sha256').update(text).digest('hex')}`
}

/** What an MQTT-owned stream or queue name holds, for the admin API; undefined for other names. */
export function internalName(name: string): string | undefined {
  if (name === retainedStream) return 'MQTT retained messages'
  if (name.startsWith(SESSION_QUEUE_PREFIX)) return 'MQTT persistent session'
  if (name.startsWith(SHARED_QUEUE_PREFIX)) return 'MQTT shared subscription'
  return undefined
}

export function sharedQueueName(group: string, topicFilter: string): string {
  return `${SHARED_QUEUE_PREFIX}${safeName(`${group}/${topicFilter}`)}`
}

/** The connection a session is attached to, as the session's bindings drive it. */
export interface SessionOwner {
  /** Starts consuming the session queue (when it exists and the connection is up). */
  consumeSession(): void
  consumeShared(sub: Subscription): void
  stopShared(queue: string): void
  /** QoS 0 message from the in-memory sink (clean sessions). */
  deliverSink(message: StoredMessage): void
  /** Called by a newer connection with the same client id [MQTT-3.1.4-3]. */
  takeover(): void
}

/** Parses `$share/group/filter`; throws INVALID_ARGUMENT for a malformed one. */
export function splitShare(filter: string): { group: string | null; topicFilter: string } {
  const shared = parseSharedSubscription(filter)
  return shared === null ? { group: null, topicFilter: filter } : { group: shared.group, topicFilter: shared.filter }
}
