// What a partition log of a cluster engine asks the cluster (index.ts) before it appends, and tells it after
// it read its row. The view may lag the database; the append statement re-checks owner and epoch in SQL.
import type { LogOwnership } from '../../api.js'

export interface LogFence {
  readonly nodeId: number
  /** The owner and epoch of a log as this broker last saw them. */
  ownerOf(logName: string): LogOwnership | undefined
  /** The log read its row and found this owner and epoch (at open, after a reload, after a fenced append). */
  observed(logName: string, owner: number | null, epoch: number): void
  /** Calls back when the view of this log's owner changed; returns the unsubscribe. */
  watch(logName: string, changed: () => void): () => void
}
