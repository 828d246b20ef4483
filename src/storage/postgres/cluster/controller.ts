// The controller: whichever broker session holds the `controller` row of wharf_lease, taken and renewed with
// one conditional statement on the database clock (free, expired, or already ours). While it holds the lease
// it assigns logs (assignment.ts) with one UPDATE per move that bumps the log's owner_epoch: the same row
// every append of the old owner updates, so the old owner's next append finds 0 rows (fenced). Each UPDATE
// also requires the lease to be still this session's, so a controller that paused past its lease moves nothing.
import type { Database } from '../connection.js'
import { assignLogs, type Move } from './assignment.js'
import type { Session } from './membership.js'

const LEASE = 'controller'

/** Takes or renews the controller lease; true when this session holds it now. */
export async function holdControllerLease(db: Database, session: Session, leaseMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO wharf_lease (name, holder, holder_session, epoch, until)
     VALUES ($1, $2, $3, 1, now() + $4 * interval '1 millisecond')
     ON CONFLICT (name) DO UPDATE
       SET holder = EXCLUDED.holder, holder_session = EXCLUDED.holder_session, until = EXCLUDED.until,
           epoch = wharf_lease.epoch + CASE WHEN wharf_lease.holder_session = EXCLUDED.holder_session THEN 0 ELSE 1 END
       WHERE wharf_lease.holder_session = EXCLUDED.holder_session OR wharf_lease.until < now()`,
    [LEASE, session.nodeId, session.sessionEpoch, leaseMs],
  )
  return rowCount === 1
}

/** Gives the lease up at once (clean leave), so another broker takes over at its next heartbeat. */
export async function releaseControllerLease(db: Database, session: Session): Promise<void> {
  await db.query(`UPDATE wharf_lease SET until = now() - interval '1 second' WHERE name = $1 AND holder_session = $2`, [
    LEASE,
    session.sessionEpoch,
  ])
}

/** The node id holding an unexpired controller lease, if any. */
export async function controllerId(db: Database): Promise<number | undefined> {
  const { rows } = await db.query<{ holder: number }>(
    'SELECT holder FROM wharf_lease WHERE name = $1 AND until > now()',
    [LEASE],
  )
  return rows[0]?.holder
}

/**
 * One controller pass: reads every log's owner, computes the moves for these live members, applies them.
 * Returns the moves that took effect (a move whose log changed owner meanwhile is skipped).
 */
export async function assignPass(db: Database, session: Session, members: readonly number[]): Promise<Move[]> {
  const { rows } = await db.query<{ id: string; name: string; owner: number | null }>(
    'SELECT id, name, owner FROM wharf_log',
  )
  const ids = new Map(rows.map((row) => [row.name, row.id]))
  const moves = assignLogs(rows, members)
  const done: Move[] = []
  for (const move of moves) {
    const { rowCount } = await db.query(
      `UPDATE wharf_log SET owner = $2, owner_epoch = owner_epoch + 1
       WHERE id = $1 AND owner IS NOT DISTINCT FROM $3
         AND EXISTS (SELECT 1 FROM wharf_lease WHERE name = $4 AND holder_session = $5 AND until > now())`,
      [ids.get(move.name), move.to, move.from, LEASE, session.sessionEpoch],
    )
    if (rowCount === 1) done.push(move)
  }
  return done
}
