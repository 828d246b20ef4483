// Membership rows (wharf_broker): a broker registers at start with a new session epoch, renews its lease every
// heartbeat and deletes its row when it closes. Every time comparison is the database's now(), so the brokers'
// clocks do not matter. A node id whose row holds an unexpired lease of another session is refused.
import { randomBytes } from 'node:crypto'
import { WharfError } from '../../../util/errors.js'
import type { ClusterMember } from '../../api.js'
import type { Database } from '../connection.js'

export interface Session {
  nodeId: number
  /** New at every registration (a sequence): tells this process's row from a predecessor's. */
  sessionEpoch: number
}

/**
 * Takes node id's row for a new session; refuses while another session's lease on it has not expired. The
 * logs the node id owned get new epochs in the same transaction: owners are node ids, so this fences a
 * previous process with this id (paused, not dead) out of the logs the new one is about to load.
 */
export async function register(db: Database, nodeId: number, leaseMs: number): Promise<Session> {
  const rows = await db.transaction(async (client) => {
    const taken = await client.query<{ session_epoch: string }>(
      `INSERT INTO wharf_broker (node_id, endpoints, session_epoch, lease_until)
     VALUES ($1, '{}', nextval('wharf_session_epoch'), now() + $2 * interval '1 millisecond')
     ON CONFLICT (node_id) DO UPDATE
       SET endpoints = '{}', session_epoch = EXCLUDED.session_epoch, lease_until = EXCLUDED.lease_until
       WHERE wharf_broker.lease_until < now()
     RETURNING session_epoch`,
      [nodeId, leaseMs],
    )
    if (taken.rowCount === 1)
      await client.query('UPDATE wharf_log SET owner_epoch = owner_epoch + 1 WHERE owner = $1', [nodeId])
    return taken.rows
  })
  const row = rows[0]
  if (row === undefined) {
    const { rows: held } = await db.query<{ left_ms: string }>(
      'SELECT ceil(extract(epoch FROM lease_until - now()) * 1000) AS left_ms FROM wharf_broker WHERE node_id = $1',
      [nodeId],
    )
    throw new WharfError(
      'INVALID_CONFIG',
      `node id ${nodeId} is taken by a live broker of this cluster (its lease runs ${held[0]?.left_ms ?? '?'} ms more); ` +
        'give every broker its own --node-id, or wait until the old process is gone',
    )
  }
  return { nodeId, sessionEpoch: Number(row.session_epoch) }
}

/**
 * Renews the lease. False when the row is no longer this session's (deleted, or taken by a new process with
 * the same node id after this one's lease expired): the caller registers again or stops.
 */
export async function renew(db: Database, session: Session, leaseMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE wharf_broker SET lease_until = now() + $3 * interval '1 millisecond'
     WHERE node_id = $1 AND session_epoch = $2`,
    [session.nodeId, session.sessionEpoch, leaseMs],
  )
  return rowCount === 1
}

export async function advertise(db: Database, session: Session, endpoints: ClusterMember['endpoints']) {
  await db.query('UPDATE wharf_broker SET endpoints = $3 WHERE node_id = $1 AND session_epoch = $2', [
    session.nodeId,
    session.sessionEpoch,
    JSON.stringify(endpoints),
  ])
  await db.query(`SELECT pg_notify('wharf_cluster', 'members')`)
}

/** A clean leave: the row goes at once, so the controller moves this broker's logs without waiting for its lease. */
export async function leave(db: Database, session: Session): Promise<void> {
  await db.query('DELETE FROM wharf_broker WHERE node_id = $1 AND session_epoch = $2', [
    session.nodeId,
    session.sessionEpoch,
  ])
  await db.query(`SELECT pg_notify('wharf_cluster', 'members')`)
}

/** Brokers whose lease has not expired on the database clock, by id. */
export async function liveMembers(db: Database): Promise<ClusterMember[]> {
  const { rows } = await db.query<{ node_id: number; endpoints: ClusterMember['endpoints'] }>(
    'SELECT node_id, endpoints FROM wharf_broker WHERE lease_until > now() ORDER BY node_id',
  )
  return rows.map((row) => ({ id: row.node_id, endpoints: row.endpoints ?? {} }))
}

/** The cluster's link secret: the first caller's random bytes, the same for every later caller. */
export async function linkSecret(db: Database): Promise<Buffer> {
  await db.query('INSERT INTO wharf_cluster_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING', [
    randomBytes(32),
  ])
  const { rows } = await db.query<{ secret: Buffer }>('SELECT secret FROM wharf_cluster_secret WHERE id = 1')
  return rows[0]!.secret
}
