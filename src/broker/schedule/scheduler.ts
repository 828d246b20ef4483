// The broker's durable scheduler (ActiveMQ's job scheduler): jobs that publish a copy of a message on a
// schedule (job.ts: delay, period and repeat, cron), kept in the catalog (kind `schedule-job`) so that they
// survive a restart, and run by their own timer. Each delivery publishes a fresh copy through the router and
// then stores the job's new state (or deletes it when over): a crash between the two makes that delivery
// again (at least once). Deliveries that fell due while the broker was down are made once, late, and the
// missed repeats of them are not made up (ActiveMQ fires overdue jobs once).
//
// Bounded: at most `jobsMax` jobs holding `bytesMax` message bytes (the catalog keeps them in memory), and
// at most `burstMax` deliveries per job per run, so a job with a tiny period cannot hog the event loop.
// A plain one-off delay needs no job: the message's own delay (`PublishMessage.delayMs`) is durable in the
// queue's stream; `delayMaxMs` bounds both.
//
// Brokers sharing one catalog (a cluster) all keep every job's schedule (another broker's change arrives through
// `synced`), and only one of them, the live member with the lowest id, makes the deliveries: a job is delivered
// once whichever broker stored it, and goes on from where it was when that broker dies.
import type { ClusterView, MetadataStore } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import type { PublishMessage } from '../message.js'
import { parseCron } from './cron.js'
import { advance, copyOf, firstCycle, type JobRecord, type JobState, type ScheduleSpec, storeMessage } from './job.js'
import { defaultScheduleLimits, type ScheduleLimits } from './limits.js'

export type { JobRecord, JobState, ScheduleLimits, ScheduleSpec }

const KIND = 'schedule-job'
const REPEAT_MAX = 2 ** 31 - 1

/** What the scheduler needs of the broker (the Broker itself). */
export interface SchedulerHost {
  /** Present when several brokers share the catalog. */
  readonly cluster?: ClusterView | undefined
  now(): number
  publish(exchange: string, routingKey: string, message: PublishMessage): Promise<{ routed: number }>
}

type Warn = (message: string, details?: Record<string, unknown>) => void

export interface ScheduleRequest extends Partial<ScheduleSpec> {
  exchange: string
  routingKey: string
  message: PublishMessage
}

export class Scheduler {
  readonly limits: ScheduleLimits
  readonly #host: SchedulerHost
  readonly #metadata: MetadataStore
  readonly #warn: Warn
  /** Each job's schedule state; its message stays in the catalog only (read when it is delivered). */
  readonly #jobs = new Map<string, JobState>()
  /** Jobs overdue at load: delivered once, their missed deliveries skipped. */
  readonly #late = new Set<string>()
  #bytes = 0
  #seq = 0
  #timer: NodeJS.Timeout | null = null
  #running: Promise<void> | null = null
  #closed = false

  constructor(metadata: MetadataStore, host: SchedulerHost, warn: Warn, limits: Partial<ScheduleLimits> = {}) {
    this.#metadata = metadata
    this.#host = host
    this.#warn = warn
    this.limits = { ...defaultScheduleLimits, ...limits }
  }

  /** A scheduler with the stored jobs (at broker open), its timer running every tickMs. */
  static start(
    metadata: MetadataStore,
    host: SchedulerHost,
    warn: Warn,
    options: { scheduleLimits?: Partial<ScheduleLimits> | undefined; tickMs?: number | undefined },
  ): Scheduler {
    const scheduler = new Scheduler(metadata, host, warn, options.scheduleLimits)
    scheduler.#start(options.tickMs ?? 100)
    return scheduler
  }

  #start(tickMs: number): void {
    const now = this.#host.now()
    for (const [id, { message: _, ...job }] of this.#metadata.list<JobRecord>(KIND)) {
      const copy: JobState = structuredClone(job)
      this.#jobs.set(id, copy)
      this.#bytes += copy.bytes
      if (copy.next <= now) this.#late.add(id)
    }
    this.#timer = setInterval(() => void this.run(), tickMs)
    this.#timer.unref()
  }

  /** Stops the timer and waits for a run under way. */
  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer !== null) clearInterval(this.#timer)
    await this.#running
  }

  get size(): number {
    return this.#jobs.size
  }

  get bytes(): number {
    return this.#bytes
  }

  /** Every job's schedule (without its message). */
  list(): JobState[] {
    return [...this.#jobs.values()].map((job) => structuredClone(job))
  }

  /** Checks a delay against the bound (a one-off delay a caller puts on the message itself). */
  checkDelay(ms: number, what = 'delay'): void {
    if (!Number.isSafeInteger(ms) || ms < 0 || ms > this.limits.delayMaxMs)
      throw new WharfError('INVALID_ARGUMENT', `${what} must be an integer in [0, ${this.limits.delayMaxMs}] ms`)
  }

  /** Adds a job; resolves with its id once stored durably. */
  async add(request: ScheduleRequest): Promise<string> {
    if (this.#closed) throw new WharfError('BROKER_CLOSED')
    const spec: ScheduleSpec = {
      delayMs: request.delayMs ?? 0,
      periodMs: request.periodMs ?? 0,
      repeat: request.repeat ?? 0,
      cron: request.cron ?? null,
    }
    this.checkDelay(spec.delayMs)
    this.checkDelay(spec.periodMs, 'period')
    if (!Number.isSafeInteger(spec.repeat) || spec.repeat < 0 || spec.repeat > REPEAT_MAX)
      throw new WharfError('INVALID_ARGUMENT', `repeat must be an integer in [0, ${REPEAT_MAX}]`)
    if (spec.cron !== null) parseCron(spec.cron)
    const { stored, bytes } = storeMessage(request.message)
    if (this.#jobs.size >= this.limits.jobsMax)
      throw new WharfError('LIMIT_EXCEEDED', `too many scheduled jobs (at most ${this.limits.jobsMax})`)
    if (this.#bytes + bytes > this.limits.bytesMax)
      throw new WharfError('LIMIT_EXCEEDED', `scheduled messages over ${this.limits.bytesMax} bytes`)
    const now = this.#host.now()
    const first = firstCycle(spec, now, this.limits.cronZone)
    if (first === null) throw new WharfError('INVALID_ARGUMENT', `cron expression '${spec.cron}' never fires`)
    const id = `${now.toString(36)}-${(++this.#seq).toString(36)}-${Math.random().toString(36).slice(2, 8)}`
    const job: JobState = {
      id,
      exchange: request.exchange,
      routingKey: request.routingKey,
      bytes,
      ...spec,
      cycleAt: first.cycleAt,
      left: spec.repeat + 1,
      next: first.next,
      createdAt: now,
    }
    this.#jobs.set(id, job)
    this.#bytes += bytes
    try {
      await this.#metadata.put(KIND, id, { ...job, message: stored })
    } catch (error) {
      this.#forget(id)
      throw error
    }
    return id
  }

  /**
   * Applies another broker's change of job `id` in the shared catalog: its new schedule, or its end. That
   * broker's own deliveries or removal wrote it, so nothing is delivered here for it.
   */
  synced(id: string): void {
    this.#forget(id)
    const stored = this.#metadata.get<JobRecord>(KIND, id)
    if (stored === undefined) return
    const { message: _, ...job } = stored
    this.#jobs.set(id, structuredClone(job))
    this.#bytes += job.bytes
  }

  /** Removes a job; false when there is none. */
  async remove(id: string): Promise<boolean> {
    if (!this.#jobs.has(id)) return false
    this.#forget(id)
    await this.#metadata.delete(KIND, id)
    return true
  }

  /** Makes the deliveries that are due (the timer calls it; one run at a time). */
  run(): Promise<void> {
    if (this.#running !== null || this.#closed) return this.#running ?? Promise.resolve()
    this.#running = this.#runDue().finally(() => {
      this.#running = null
    })
    return this.#running
  }

  async #runDue(): Promise<void> {
    const cluster = this.#host.cluster
    if (cluster !== undefined && cluster.members()[0]?.id !== cluster.nodeId) return
    const now = this.#host.now()
    const due = [...this.#jobs.values()].filter((job) => job.next <= now)
    due.sort((a, b) => a.next - b.next)
    for (const job of due) {
      if (this.#closed) return
      try {
        await this.#deliver(job, now)
      } catch (error) {
        // Kept as it was: tried again on the next run (a broker closing meanwhile is no news).
        if (!this.#closed) this.#warn('scheduled delivery failed', { job: job.id, error: String(error) })
      }
    }
  }

  async #deliver(job: JobState, now: number): Promise<void> {
    const message = this.#metadata.get<JobRecord>(KIND, job.id)?.message
    if (message === undefined) return this.#forget(job.id) // deleted from the catalog under us
    const late = this.#late.delete(job.id)
    let alive = true
    for (let n = 0; alive && job.next <= now && n < this.limits.burstMax; n++) {
      const routed = await this.#host.publish(job.exchange, job.routingKey, copyOf(message, this.#host.now()))
      if (routed.routed === 0)
        this.#warn('scheduled message unroutable', { job: job.id, exchange: job.exchange, key: job.routingKey })
      alive = advance(job, now, this.limits.cronZone, late)
    }
    if (!this.#jobs.has(job.id)) return // removed meanwhile
    if (!alive) {
      this.#forget(job.id)
      await this.#metadata.delete(KIND, job.id)
    } else await this.#metadata.put(KIND, job.id, { ...job, message } satisfies JobRecord)
  }

  #forget(id: string): void {
    const job = this.#jobs.get(id)
    if (job === undefined) return
    this.#jobs.delete(id)
    this.#late.delete(id)
    this.#bytes -= job.bytes
  }
}
