// What a partition log of a cluster engine asks the cluster (index.ts) before it appends, and tells it after
// it read its row. The view may lag the database; the append statement re-checks owner and epoch in SQL.
import type { AppendForwarder, LogOwnership } from '../../api.js'

export interface LogFence {
  readonly nodeId: number
  /** False while this process has no valid membership session (its row was taken): it owns nothing then. */
  readonly active: boolean
  /** The owner and epoch of a log as this broker last saw them. */
  ownerOf(logName: string): LogOwnership | undefined
  /** The log read its row and found this owner and epoch (at open, after a reload, after a fenced append). */
  observed(logName: string, owner: number | null, epoch: number): void
  /**
   * Whether this process's membership session is still the node id's (checked in the database after the log
   * read its row at a new epoch: owners are node ids, and a new process with this id may have taken over).
   */
  confirm(): Promise<boolean>
  /** Where appends to a log another member owns go (the broker-to-broker link); null: they fail NOT_OWNER. */
  readonly forward: AppendForwarder | null
  /** Calls back when the view of this log's owner changed; returns the unsubscribe. */
  watch(logName: string, changed: () => void): () => void
}
