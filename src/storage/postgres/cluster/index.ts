// Cluster mode of the PostgreSQL engine: this broker's membership row and lease, the controller duty when it
// holds the controller lease, and its view of who owns each durable log. The view is rebuilt from the
// database on every heartbeat and whenever a NOTIFY on wharf_cluster arrives (an owner change, a member
// joining, leaving or advertising), and on every reconnect of the listening connection. Logs consult it
// through the LogFence interface before they append; the append itself is fenced in SQL (log.ts), so a
// stale view can only refuse an append, never let a deposed owner write.
import { WharfError } from '../../../util/errors.js'
import type {
  AppendForwarder,
  AppendResult,
  ClusterMember,
  ClusterView,
  LogOwnership,
  PartitionLog,
} from '../../api.js'
import type { Database } from '../connection.js'
import { assignPass, controllerId, holdControllerLease, releaseControllerLease } from './controller.js'
import { DEFAULT_HEARTBEAT_MS, DEFAULT_LEASE_MS } from './defaults.js'
import type { LogFence } from './fence.js'
import { ClusterListener } from './listener.js'
import { advertise, leave, linkSecret, liveMembers, register, renew, type Session } from './membership.js'

export type { LogFence } from './fence.js'

export interface ClusterOptions {
  /** This broker's node id (non-negative integer, unique among live brokers). */
  nodeId: number
  /** How long a membership or controller lease lasts without renewal (ms, default DEFAULT_LEASE_MS). */
  leaseMs?: number
  /** How often leases are renewed and the view re-read (ms, default DEFAULT_HEARTBEAT_MS). */
  heartbeatMs?: number
}

interface Hooks {
  warn?: (message: string, details?: Record<string, unknown>) => void
  info?: (message: string, details?: Record<string, unknown>) => void
}

export class PostgresCluster implements ClusterView, LogFence {
  readonly nodeId: number
  readonly #db: Database
  readonly #leaseMs: number
  readonly #heartbeatMs: number
  readonly #hooks: Hooks
  #session: Session
  #members: ClusterMember[] = []
  #owners = new Map<string, LogOwnership>()
  #controller = false
  /** The node id holding the controller lease as of the last re-read. */
  #controllerId: number | undefined
  #active = true
  readonly #listeners = new Set<(changed: readonly string[]) => void>()
  readonly #watchers = new Map<string, Set<() => void>>()
  readonly #listener: ClusterListener
  #timer: NodeJS.Timeout | undefined
  #ticking: Promise<void> | undefined
  #refreshing: Promise<void> | undefined
  #refreshAgain = false
  #closed = false
  forward: AppendForwarder | null = null
  /** How appendForwarded reaches this engine's logs (set by the engine). */
  openLog: ((name: string) => Promise<PartitionLog>) | null = null
  #secret: Promise<Buffer> | undefined

  private constructor(db: Database, options: ClusterOptions, session: Session, hooks: Hooks) {
    this.#db = db
    this.nodeId = options.nodeId
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS
    this.#heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
    this.#hooks = hooks
    this.#session = session
    this.#listener = new ClusterListener(
      db,
      () => this.refresh().catch(() => {}),
      () => this.refresh().catch(() => {}),
    )
  }

  /** Registers this broker (refused while another live process holds the node id) and starts its heartbeat. */
  static async join(db: Database, options: ClusterOptions, hooks: Hooks = {}): Promise<PostgresCluster> {
    const { nodeId } = options
    if (!Number.isSafeInteger(nodeId) || nodeId < 0 || nodeId > 2 ** 31 - 1)
      throw new WharfError('INVALID_CONFIG', `node id must be an integer in [0, 2^31-1], got ${nodeId}`)
    const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS
    const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
    if (!Number.isSafeInteger(leaseMs) || !Number.isSafeInteger(heartbeatMs) || heartbeatMs <= 0)
      throw new WharfError('INVALID_CONFIG', 'cluster leaseMs and heartbeatMs must be positive integers')
    if (heartbeatMs * 2 > leaseMs)
      throw new WharfError('INVALID_CONFIG', 'cluster leaseMs must be at least twice heartbeatMs')
    const session = await register(db, nodeId, leaseMs)
    const cluster = new PostgresCluster(db, options, session, hooks)
    await db.query(`SELECT pg_notify('wharf_cluster', 'members')`)
    cluster.#listener.start()
    await cluster.#tick()
    cluster.#schedule()
    return cluster
  }

  get sessionEpoch(): number {
    return this.#session.sessionEpoch
  }

  /** False while this process's membership row is not its own (taken by a new process with this node id). */
  get active(): boolean {
    return this.#active
  }

  async confirm(): Promise<boolean> {
    if (!this.#active) return false
    const { rowCount } = await this.#db.query('SELECT 1 FROM wharf_broker WHERE node_id = $1 AND session_epoch = $2', [
      this.nodeId,
      this.#session.sessionEpoch,
    ])
    if (rowCount === 0) this.#deactivate()
    return rowCount === 1
  }

  /** This process lost its membership row: it owns nothing until it registers again (with new epochs). */
  #deactivate(): void {
    if (!this.#active) return
    this.#active = false
    this.#controller = false
    this.#hooks.warn?.('cluster: membership row lost (lease expired and taken?); stepping down', {
      nodeId: this.nodeId,
    })
    const mine = [...this.#owners].filter(([, owner]) => owner.owner === this.nodeId).map(([name]) => name)
    this.#announce(mine)
  }

  /** The node id of the controller (holder of an unexpired controller lease) as last read; undefined if none. */
  get controller(): number | undefined {
    return this.#controllerId
  }

  /** True while this broker holds the controller lease (as of its last heartbeat). */
  get isController(): boolean {
    return this.#controller
  }

  members(): ClusterMember[] {
    return this.#members.map((member) => ({ id: member.id, endpoints: { ...member.endpoints } }))
  }

  readMembers(): Promise<ClusterMember[]> {
    return liveMembers(this.#db)
  }

  ownerOf(logName: string): LogOwnership | undefined {
    const found = this.#owners.get(logName)
    return found === undefined ? undefined : { ...found }
  }

  onChange(listener: (changedLogs: readonly string[]) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async advertise(endpoints: ClusterMember['endpoints']): Promise<void> {
    await advertise(this.#db, this.#session, endpoints)
    await this.refresh()
  }

  linkSecret(): Promise<Buffer> {
    this.#secret ??= linkSecret(this.#db)
    this.#secret.catch(() => {
      this.#secret = undefined
    })
    return this.#secret
  }

  forwardAppends(forward: AppendForwarder | null): void {
    this.forward = forward
  }

  async appendForwarded(logName: string, epoch: number, batches: Buffer[]): Promise<AppendResult> {
    const view = this.#owners.get(logName)
    if (view === undefined || view.owner !== this.nodeId || view.epoch !== epoch || !this.#active || !this.openLog)
      throw new WharfError(
        'NOT_OWNER',
        `log ${logName} is not owned by broker ${this.nodeId} at epoch ${epoch} (${view === undefined ? 'no owner' : `broker ${view.owner}, epoch ${view.epoch}`})`,
      )
    const log = await this.openLog(logName)
    return log.append(batches)
  }

  // LogFence: what the logs of this engine ask.

  watch(logName: string, changed: () => void): () => void {
    const set = this.#watchers.get(logName) ?? new Set()
    this.#watchers.set(logName, set)
    set.add(changed)
    return () => {
      set.delete(changed)
      if (set.size === 0 && this.#watchers.get(logName) === set) this.#watchers.delete(logName)
    }
  }

  /** A log read its row: owner and epoch as the database has them now (newer than the view when epochs differ). */
  observed(logName: string, owner: number | null, epoch: number): void {
    const known = this.#owners.get(logName)
    if (known !== undefined && known.epoch > epoch) return
    const keep = owner !== null && (owner === this.nodeId || this.#members.some((member) => member.id === owner))
    if (known?.owner === owner && known?.epoch === epoch) return
    if (!keep && known === undefined) return
    if (keep) this.#owners.set(logName, { owner: owner!, epoch })
    else this.#owners.delete(logName)
    this.#announce([logName])
  }

  /** Re-reads members and owners now (coalesced: one pass at a time, one more queued). */
  refresh(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    if (this.#refreshing !== undefined) {
      this.#refreshAgain = true
      return this.#refreshing
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#refreshAgain = false
          await this.#readView()
        } while (this.#refreshAgain && !this.#closed)
      } finally {
        this.#refreshing = undefined
      }
    })()
    return this.#refreshing
  }

  async #readView(): Promise<void> {
    const members = await liveMembers(this.#db)
    const controller = await controllerId(this.#db)
    const { rows } = await this.#db.query<{ name: string; owner: number | null; owner_epoch: string }>(
      'SELECT name, owner, owner_epoch FROM wharf_log WHERE owner IS NOT NULL',
    )
    if (this.#closed) return
    const live = new Set(members.map((member) => member.id))
    const owners = new Map<string, LogOwnership>()
    for (const row of rows) {
      // This broker's own logs stay its own while its session row stands, even if this read saw its lease
      // lapse: the fence in SQL decides, and the controller will have moved them if the lapse was real.
      if (row.owner !== null && (live.has(row.owner) || row.owner === this.nodeId))
        owners.set(row.name, { owner: row.owner, epoch: Number(row.owner_epoch) })
    }
    const changed: string[] = []
    for (const [name, was] of this.#owners) {
      const now = owners.get(name)
      if (now === undefined || now.owner !== was.owner || now.epoch !== was.epoch) changed.push(name)
    }
    for (const name of owners.keys()) if (!this.#owners.has(name)) changed.push(name)
    const membersChanged =
      JSON.stringify(members) !== JSON.stringify(this.#members) || controller !== this.#controllerId
    this.#members = members
    this.#controllerId = controller
    this.#owners = owners
    if (changed.length > 0 || membersChanged) this.#announce(changed)
  }

  #announce(changed: string[]): void {
    for (const name of changed) {
      for (const watcher of this.#watchers.get(name) ?? []) watcher()
    }
    for (const listener of this.#listeners) {
      try {
        listener(changed)
      } catch (error) {
        this.#hooks.warn?.('cluster change listener failed', { error: String(error) })
      }
    }
  }

  #schedule(): void {
    if (this.#closed) return
    this.#timer = setTimeout(() => {
      this.#ticking = this.#tick().finally(() => {
        this.#ticking = undefined
        this.#schedule()
      })
    }, this.#heartbeatMs)
    this.#timer.unref()
  }

  /** One heartbeat: renew (or re-register), the controller's duty if this broker holds its lease, re-read. */
  async #tick(): Promise<void> {
    try {
      if (!this.#active || !(await renew(this.#db, this.#session, this.#leaseMs))) {
        this.#deactivate()
        this.#session = await register(this.#db, this.nodeId, this.#leaseMs)
        this.#active = true
        this.#hooks.info?.('cluster: registered again', { nodeId: this.nodeId, session: this.#session.sessionEpoch })
      }
      const wasController = this.#controller
      this.#controller = await holdControllerLease(this.#db, this.#session, this.#leaseMs)
      if (this.#controller !== wasController)
        this.#hooks.info?.(this.#controller ? 'cluster: this broker is the controller' : 'cluster: controller lost', {
          nodeId: this.nodeId,
        })
      if (this.#controller) {
        const members = (await liveMembers(this.#db)).map((member) => member.id)
        const moves = await assignPass(this.#db, this.#session, members)
        if (moves.length > 0) this.#hooks.info?.('cluster: logs assigned', { moves: moves.length })
      }
      await this.refresh()
    } catch (error) {
      if (!this.#closed) this.#hooks.warn?.('cluster heartbeat failed', { error: String(error) })
    }
  }

  /** Leaves cleanly: the controller lease and the membership row go at once, so others take over quickly. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    await this.#ticking
    await this.#refreshing?.catch(() => {})
    await this.#listener.close()
    try {
      await releaseControllerLease(this.#db, this.#session)
      await leave(this.#db, this.#session)
    } catch (error) {
      this.#hooks.warn?.('cluster: leaving failed (the lease will expire)', { error: String(error) })
    }
    this.#listeners.clear()
    this.#watchers.clear()
  }
}
