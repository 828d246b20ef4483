// Taking a consumer group over on a cluster (Kafka's loading of a moved __consumer_offsets partition). Each
// broker keeps committed offsets in memory, and a group's coordinator moves when the live members change: the
// broker that gains it has only what it read at start, not what the group committed through the broker that
// coordinated it since. So the first request for a group this broker coordinates starts a re-read of the
// group's offsets from the shared storage and is answered COORDINATOR_LOAD_IN_PROGRESS (clients retry), as
// is every request until that read is done; a broker that stops coordinating a group forgets it (members and
// load), so getting it back later reads it again. On a single broker every group is always loaded.
//
// Handing a group over, in order: the storage orders the re-read after every offset write in flight on any
// broker (cursors.ts), so a commit the previous coordinator wrote before the new one loaded is read back. A
// commit the previous coordinator writes after that (its view of the members not updated yet) is not: so an
// OffsetCommit is acknowledged only once the members as the database has them after the write still make
// this broker the coordinator (confirmCoordinator); else it answers NOT_COORDINATOR and the client commits
// again at the new coordinator. Neither side waits on a timer.
//
// The Kafka listener owns one GroupLoads on a cluster (none on a single broker) and closes it with itself.
import type { Broker } from '../../broker/broker.js'
import type { ClusterMember, ClusterView } from '../../storage/api.js'
import type { Logger } from '../../util/logger.js'
import { coordinatorAmong, coordinatorRefusal } from './cluster.js'
import { KafkaError } from './errors.js'

export class GroupLoads {
  readonly #broker: Broker
  readonly #logger: Logger
  /** Groups this broker coordinates whose offsets it has read since it gained them. */
  readonly #loaded = new Set<string>()
  /** Re-reads under way; one that is no longer the map's entry when it ends was overtaken by a move. */
  readonly #loading = new Map<string, Promise<void>>()

  readonly #cluster: ClusterView
  /** The database read of the members under way, and the one queued after it (coalescing concurrent asks). */
  #reading: Promise<ClusterMember[]> | undefined
  #nextRead: Promise<ClusterMember[]> | undefined
  readonly #offChange: () => void

  constructor(broker: Broker, cluster: ClusterView, logger: Logger) {
    this.#broker = broker
    this.#cluster = cluster
    this.#logger = logger
    this.#offChange = cluster.onChange(() => this.#membersChanged())
  }

  /** Stops following membership changes (the listener closes). */
  close(): void {
    this.#offChange()
  }

  /** The groups of this listener's broker, on a cluster; null on a single broker (every group is loaded). */
  static of(broker: Broker, logger: Logger): GroupLoads | null {
    return broker.cluster === undefined ? null : new GroupLoads(broker, broker.cluster, logger)
  }

  /** The live members from a database read that started after this call. */
  readMembers(): Promise<ClusterMember[]> {
    if (this.#nextRead !== undefined) return this.#nextRead
    if (this.#reading === undefined) return this.#startRead()
    const next = this.#reading
      .catch(() => {})
      .then(() => {
        this.#nextRead = undefined
        return this.#startRead()
      })
    this.#nextRead = next
    return next
  }

  #startRead(): Promise<ClusterMember[]> {
    const reading: Promise<ClusterMember[]> = this.#cluster.readMembers().finally(() => {
      if (this.#reading === reading) this.#reading = undefined
    })
    this.#reading = reading
    return reading
  }

  /** NONE when the group's offsets are here; else COORDINATOR_LOAD_IN_PROGRESS, with the load started. */
  state(groupId: string): number {
    if (this.#loaded.has(groupId)) return KafkaError.NONE
    if (!this.#loading.has(groupId)) this.#load(groupId)
    return KafkaError.COORDINATOR_LOAD_IN_PROGRESS
  }

  #load(groupId: string): void {
    const broker = this.#broker
    // Members and generations left from an earlier time this broker coordinated the group are stale.
    broker.groups.unload(groupId)
    const loading: Promise<void> = broker.log.reloadGroup(groupId).then(
      () => {
        if (this.#loading.get(groupId) !== loading) return
        this.#loading.delete(groupId)
        this.#loaded.add(groupId)
      },
      (error: unknown) => {
        // The next request for the group tries again (the database may be back by then).
        if (this.#loading.get(groupId) === loading) this.#loading.delete(groupId)
        this.#logger.warn({ group: groupId, err: error }, 'kafka: could not load a consumer group taken over')
      },
    )
    this.#loading.set(groupId, loading)
  }

  /** Groups another broker coordinates now are forgotten here (their clients get NOT_COORDINATOR and move). */
  #membersChanged(): void {
    for (const groupId of [...this.#loaded, ...this.#loading.keys()]) {
      if (coordinatorRefusal(this.#broker, 'group', groupId) === KafkaError.NONE) continue
      this.#loaded.delete(groupId)
      this.#loading.delete(groupId)
      this.#broker.groups.unload(groupId)
    }
  }
}

/** What the functions below need of the listener's state. */
interface GroupServer {
  readonly broker: Broker
  readonly groupLoads: GroupLoads | null
}

/**
 * What a group request must answer before the group coordinator handles it: NONE, NOT_COORDINATOR (another
 * broker coordinates the group) or COORDINATOR_LOAD_IN_PROGRESS (this broker is taking it over).
 */
export function groupRefusal(server: GroupServer, groupId: string): number {
  const refused = coordinatorRefusal(server.broker, 'group', groupId)
  if (refused !== KafkaError.NONE || server.groupLoads === null) return refused
  return server.groupLoads.state(groupId)
}

/**
 * After a group's offsets were written: NONE when the members as the database has them now still make this
 * broker the group's coordinator (always on a single broker), else NOT_COORDINATOR (the write may have come
 * after another broker loaded the group, so it must not be acknowledged here) or COORDINATOR_NOT_AVAILABLE
 * when the database cannot say. Both are retriable: the client commits again where FindCoordinator sends it.
 */
export async function confirmCoordinator(server: GroupServer, groupId: string) {
  const cluster = server.broker.cluster
  if (cluster === undefined || server.groupLoads === null) return KafkaError.NONE
  try {
    const members = await server.groupLoads.readMembers()
    return coordinatorAmong(members, 'group', groupId) === cluster.nodeId ? KafkaError.NONE : KafkaError.NOT_COORDINATOR
  } catch {
    return KafkaError.COORDINATOR_NOT_AVAILABLE
  }
}
