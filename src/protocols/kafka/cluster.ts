// Kafka's view of the brokers sharing one storage: which brokers Metadata lists, which one leads a partition
// (its log's owner, the owner's fencing epoch as leader epoch) and which one coordinates a group or a
// transactional id. The one place handlers ask; on a single broker (no ClusterView) every answer is this node
// with epoch 0, as before clustering existed. Clients re-route by themselves on NOT_LEADER_OR_FOLLOWER and
// NOT_COORDINATOR, so a wrong broker only has to refuse.
import type { Broker } from '../../broker/broker.js'
import { Stream } from '../../broker/stream/stream.js'
import type { ClusterMember, ClusterView } from '../../storage/api.js'
import { KafkaError } from './errors.js'

/** The node id of a single broker: what every Metadata and FindCoordinator answer names without a cluster. */
export const NODE_ID = 0
/** The membership endpoint names the server advertises for the Kafka listener's plaintext and TLS ports. */
export const KAFKA_ENDPOINT = 'kafka'
export const KAFKA_TLS_ENDPOINT = 'kafka-tls'

export interface KafkaNode {
  nodeId: number
  host: string
  port: number
}

export interface PartitionLeader {
  /** NONE, or LEADER_NOT_AVAILABLE while no live broker owns the partition. */
  errorCode: number
  leaderId: number
  leaderEpoch: number
  replicas: number[]
}

/** This broker's Kafka node id. */
export function selfId(broker: Broker): number {
  return broker.cluster?.nodeId ?? NODE_ID
}

function endpointOf(member: ClusterMember, tls: boolean): KafkaNode | undefined {
  const endpoint = member.endpoints[tls ? KAFKA_TLS_ENDPOINT : KAFKA_ENDPOINT]
  return endpoint === undefined ? undefined : { nodeId: member.id, host: endpoint.host, port: endpoint.port }
}

/**
 * The brokers a client may connect to, for a connection that came in plaintext or over TLS: every live member
 * that advertises that Kafka listener, and always this broker as the connection reached it (its own row may
 * not be written yet, and the client must be able to keep talking to the broker it asked).
 */
export function kafkaNodes(broker: Broker, self: { host: string; port: number }, tls: boolean): KafkaNode[] {
  const cluster = broker.cluster
  const me = { nodeId: selfId(broker), host: self.host, port: self.port }
  if (cluster === undefined) return [me]
  const nodes = [me]
  for (const member of cluster.members()) {
    if (member.id === me.nodeId) continue
    const node = endpointOf(member, tls)
    if (node !== undefined) nodes.push(node)
  }
  return nodes.sort((a, b) => a.nodeId - b.nodeId)
}

/**
 * Live members that advertise a Kafka listener: the only ones a client can be sent to, and the same list on
 * every broker (a broker's own row counts only once it is advertised, as the others see it).
 */
function kafkaMembers(cluster: ClusterView): ClusterMember[] {
  return cluster.members().filter((m) => m.endpoints[KAFKA_ENDPOINT] !== undefined)
}

/** The live owner of a stream partition's log, if any. */
function liveOwner(cluster: ClusterView, stream: Stream, partition: number) {
  const ownership = cluster.ownerOf(Stream.logName(stream.id, partition))
  if (ownership === undefined) return undefined
  // An owner whose lease ran out keeps its row until the controller moves the log: not a leader to name.
  if (ownership.owner !== cluster.nodeId && !kafkaMembers(cluster).some((m) => m.id === ownership.owner))
    return undefined
  return ownership
}

/** Leader, leader epoch and replicas of a partition as Metadata lists them. */
export function partitionLeader(broker: Broker, stream: Stream, partition: number): PartitionLeader {
  const cluster = broker.cluster
  if (cluster === undefined)
    return { errorCode: KafkaError.NONE, leaderId: NODE_ID, leaderEpoch: 0, replicas: [NODE_ID] }
  const owner = liveOwner(cluster, stream, partition)
  if (owner === undefined)
    return { errorCode: KafkaError.LEADER_NOT_AVAILABLE, leaderId: -1, leaderEpoch: -1, replicas: [] }
  return { errorCode: KafkaError.NONE, leaderId: owner.owner, leaderEpoch: owner.epoch, replicas: [owner.owner] }
}

/**
 * NONE when this broker leads the partition (always on a single broker), else NOT_LEADER_OR_FOLLOWER: the
 * answer to a produce, fetch or offset request that reached the wrong broker (the client refreshes metadata).
 */
export function leaderRefusal(broker: Broker, stream: Stream, partition: number): number {
  const cluster = broker.cluster
  if (cluster === undefined) return KafkaError.NONE
  return cluster.ownerOf(Stream.logName(stream.id, partition))?.owner === cluster.nodeId
    ? KafkaError.NONE
    : KafkaError.NOT_LEADER_OR_FOLLOWER
}

/** The leader epoch this broker serves a partition with (0 on a single broker). */
export function leaderEpochOf(broker: Broker, stream: Stream, partition: number): number {
  return broker.cluster?.ownerOf(Stream.logName(stream.id, partition))?.epoch ?? 0
}

/** FNV-1a over the text, finished with murmur3's fmix32 so that near keys spread over the whole range. */
function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * Rendezvous (highest random weight) choice of one member id for a key: every broker computes the same answer
 * from the same member list, and when a member leaves only its own keys move. Undefined without members.
 */
export function rendezvous(key: string, memberIds: readonly number[]): number | undefined {
  let best: number | undefined
  let bestScore = -1
  for (const id of memberIds) {
    const score = hash32(`${id}\u0000${key}`)
    if (score > bestScore || (score === bestScore && best !== undefined && id < best)) {
      best = id
      bestScore = score
    }
  }
  return best
}

/** Group coordinators and transaction coordinators are chosen apart, so the same name may land differently. */
export type CoordinatorKind = 'group' | 'transaction'

function coordinatorKey(kind: CoordinatorKind, key: string): string {
  return `${kind}:${key}`
}

/** The node coordinating a group or transactional id, with its address; undefined when no broker is live. */
export function coordinatorNode(
  broker: Broker,
  kind: CoordinatorKind,
  key: string,
  self: { host: string; port: number },
  tls: boolean,
): KafkaNode | undefined {
  const cluster = broker.cluster
  if (cluster === undefined) return { nodeId: NODE_ID, host: self.host, port: self.port }
  const members = kafkaMembers(cluster)
  const id = rendezvous(
    coordinatorKey(kind, key),
    members.map((m) => m.id),
  )
  if (id === undefined) return undefined
  if (id === cluster.nodeId) return { nodeId: id, host: self.host, port: self.port }
  const member = members.find((m) => m.id === id)
  return member === undefined ? undefined : endpointOf(member, tls)
}

/** The node id coordinating a key among these live members (those advertising a Kafka listener count). */
export function coordinatorAmong(members: readonly ClusterMember[], kind: CoordinatorKind, key: string) {
  return rendezvous(
    coordinatorKey(kind, key),
    members.filter((m) => m.endpoints[KAFKA_ENDPOINT] !== undefined).map((m) => m.id),
  )
}

/** The member coordinating a key when another one does; undefined when this broker does (or there is no cluster). */
export function coordinatorElsewhere(broker: Broker, kind: CoordinatorKind, key: string): number | undefined {
  const cluster = broker.cluster
  if (cluster === undefined) return undefined
  const node = coordinatorAmong(cluster.members(), kind, key)
  return node === cluster.nodeId ? undefined : node
}

/**
 * Tells the broker's producer transactions, on a cluster, which transactional ids this broker coordinates (it
 * acts only on those, and takes one over when it comes to coordinate it) and where each consumer group is
 * coordinated (a committed transaction's offsets are applied there). Returns the undoing (the listener closes).
 */
export function routeTransactions(broker: Broker): () => void {
  if (broker.cluster === undefined) return () => {}
  const txns = broker.producerTransactions
  const cluster = broker.cluster
  txns.records.coordinates = (id, members = cluster.members()) =>
    coordinatorAmong(members, 'transaction', id) === cluster.nodeId
  txns.partitions.locateGroup = (group) => coordinatorElsewhere(broker, 'group', group)
  return () => {
    txns.records.coordinates = null
    txns.partitions.locateGroup = null
  }
}

/** NONE when this broker coordinates the key (always on a single broker), else NOT_COORDINATOR. */
export function coordinatorRefusal(broker: Broker, kind: CoordinatorKind, key: string): number {
  const cluster = broker.cluster
  if (cluster === undefined) return KafkaError.NONE
  return coordinatorAmong(cluster.members(), kind, key) === cluster.nodeId
    ? KafkaError.NONE
    : KafkaError.NOT_COORDINATOR
}
