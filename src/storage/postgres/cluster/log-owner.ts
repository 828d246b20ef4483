// One partition log's side of cluster mode (used by ../log.ts): whether this broker may append to it now,
// taking it over (reload what the previous owner wrote, then accept appends under the new epoch), stepping
// down when the view or a fenced statement says it lost the log, and catching up with the owner's rows for
// reads when it does not own the log.
import { WharfError } from '../../../util/errors.js'
import type { AppendResult } from '../../api.js'
import type { LogRow } from '../log-rows.js'
import type { LogFence } from './fence.js'

/** A log not owned here re-reads its rows for a read past its known end at most this often (ms). */
const CATCH_UP_MS = 200

export interface OwnedLog {
  readonly name: string
  /** Re-reads the log row and adds the chunk rows past the known end (serialised by the log). */
  reload(): Promise<LogRow>
  /** Waits for the appends in flight. */
  flush(): Promise<void>
}

export class LogOwner {
  /** The owner epoch this broker loaded the log's state under; undefined while it does not own the log. */
  epoch: number | undefined
  readonly #fence: LogFence
  readonly #log: OwnedLog
  readonly #unwatch: () => void
  #adopting: Promise<void> | undefined
  #caughtUpAt = 0
  #catchingUp: Promise<void> | undefined
  #closed = false

  /** row: read when the log was opened, together with the state the log loaded. */
  constructor(fence: LogFence, log: OwnedLog, row: LogRow) {
    this.#fence = fence
    this.#log = log
    // State read at an epoch this broker owns is the whole log: nobody else appends under that epoch.
    if (row.owner === fence.nodeId && fence.active) this.epoch = row.epoch
    fence.observed(log.name, row.owner, row.epoch)
    this.#unwatch = fence.watch(log.name, () => this.changed())
  }

  /** Why this broker may not append now, or undefined when it may. */
  refusal(): WharfError | undefined {
    const fence = this.#fence
    const view = fence.ownerOf(this.#log.name)
    const mine = view?.owner === fence.nodeId && fence.active
    if (mine && view!.epoch === this.epoch) return undefined
    if (mine) this.changed() // gained, and not yet (or not successfully) loaded
    const owner = view === undefined ? 'no live broker' : `broker ${view.owner}`
    return new WharfError(
      'NOT_OWNER',
      `log ${this.#log.name} is owned by ${owner}, not by this broker (${fence.nodeId})`,
    )
  }

  /**
   * An append this broker may not make now: sent to the owner when the engine forwards appends (another live
   * member owns the log), else refused with NOT_OWNER. Undefined when this broker may append.
   */
  redirect(batches: Buffer[], retry: () => Promise<AppendResult>): Promise<AppendResult> | undefined {
    const refused = this.refusal()
    if (refused === undefined) return undefined
    const fence = this.#fence
    const view = fence.ownerOf(this.#log.name)
    if (fence.forward === null || view === undefined || view.owner === fence.nodeId || !fence.active)
      return Promise.reject(refused)
    return fence.forward(this.#log.name, view, batches, retry)
  }

  /** The owner and epoch the next append statement must find on the log row; throws NOT_OWNER when not owned. */
  statementFence(): { owner: number; epoch: number } {
    if (this.epoch === undefined) throw this.refusal() ?? new WharfError('NOT_OWNER', `log ${this.#log.name}`)
    return { owner: this.#fence.nodeId, epoch: this.epoch }
  }

  /**
   * An append statement under epoch found 0 rows and the row now reads as row: a takeover (NOT_OWNER,
   * nothing written, this broker steps down), or undefined when owner and epoch are unchanged.
   */
  fenced(epoch: number, row: LogRow | undefined): WharfError | undefined {
    if (row === undefined || (row.owner === this.#fence.nodeId && row.epoch === epoch)) return undefined
    if (this.epoch === epoch) this.epoch = undefined
    this.#fence.observed(this.#log.name, row.owner, row.epoch)
    return new WharfError('NOT_OWNER', `log ${this.#log.name} was taken over (broker ${row.owner}, epoch ${row.epoch})`)
  }

  /** The view of the owner changed: step down, or take over once what the previous owner wrote is loaded. */
  changed(): void {
    const fence = this.#fence
    const view = fence.ownerOf(this.#log.name)
    if (view?.owner !== fence.nodeId || !fence.active) {
      this.epoch = undefined
      return
    }
    if (view.epoch === this.epoch || this.#adopting !== undefined || this.#closed) return
    this.epoch = undefined
    this.#adopting = (async () => {
      await this.#log.flush()
      const row = await this.#log.reload()
      if (row.owner === fence.nodeId && fence.active && (await fence.confirm())) this.epoch = row.epoch
      fence.observed(this.#log.name, row.owner, row.epoch)
    })()
      .catch(() => {}) // tried again by the next append (refusal) or change
      .finally(() => {
        this.#adopting = undefined
      })
  }

  /**
   * Before a read at or past the known end of a log not owned here: re-read its rows. Reads at the end (a
   * consumer waiting for more) do so at most every CATCH_UP_MS; a read past it always does, since answering
   * it out of range could make a consumer reset its position.
   */
  catchUp(fromOffset: number, knownEnd: number): Promise<void> {
    if (this.epoch !== undefined || fromOffset < knownEnd) return Promise.resolve()
    if (this.#catchingUp !== undefined) return this.#catchingUp
    if (fromOffset === knownEnd && Date.now() - this.#caughtUpAt < CATCH_UP_MS) return Promise.resolve()
    this.#caughtUpAt = Date.now()
    this.#catchingUp = this.#log
      .reload()
      .then(() => {})
      .finally(() => {
        this.#catchingUp = undefined
      })
    return this.#catchingUp
  }

  close(): void {
    this.#closed = true
    this.#unwatch()
  }
}
