// What one Fetch reads and answers, apart from reading itself (fetch.ts): the partitions the request names (by
// topic name, or by topic id from v13), the fetch session step (fetch-session.ts) that decides which partitions
// to read, and the response topics (only what changed, for an incremental fetch).
import type { Stream } from '../../broker/stream/stream.js'
import type { FetchRequest, FetchResponseFetchableTopicResponse, FetchResponsePartitionData } from './codec/index.js'
import type { Connection } from './connection.js'
import { type FetchPartitionRequest, type FetchPlan, FINAL_EPOCH } from './fetch-session.js'
import { ZERO_TOPIC_ID } from './topic-ids.js'

/** One partition to read, resolved and authorized. */
export interface FetchTarget {
  topic: string
  /** Fetch v13+: the id the request named the topic by, and whether it names no stream (UNKNOWN_TOPIC_ID). */
  topicId?: Buffer
  unknownTopicId?: boolean
  partition: number
  fetchOffset: number
  partitionMaxBytes: number
  /** The principal may not Read the topic: answered TOPIC_AUTHORIZATION_FAILED, whether it exists or not. */
  denied: boolean
}

/** The request's partitions and the session step: which partitions to read, which session id to answer. */
export function fetchPlan(c: Connection, req: FetchRequest, version: number): FetchPlan {
  const byId = version >= 13
  const partitions: FetchPartitionRequest[] = []
  for (const topic of req.topics) {
    const named = byId ? { topicId: topic.topicId ?? ZERO_TOPIC_ID } : { topic: topic.topic ?? '' }
    for (const p of topic.partitions)
      partitions.push({
        ...named,
        partition: p.partition,
        fetchOffset: p.fetchOffset,
        partitionMaxBytes: Math.max(0, p.partitionMaxBytes),
      })
  }
  // Sessions exist from v7; before, and for id 0 with epoch -1, a fetch is sessionless.
  if (version < 7 || ((req.sessionId ?? 0) === 0 && (req.sessionEpoch ?? FINAL_EPOCH) === FINAL_EPOCH))
    return { kind: 'full', sessionId: 0, session: undefined, partitions }
  const forgotten = (req.forgottenTopicsData ?? []).flatMap((t) =>
    (t.partitions ?? []).map((partition) =>
      byId ? { topicId: t.topicId ?? ZERO_TOPIC_ID, partition } : { topic: t.topic ?? '', partition },
    ),
  )
  return c.server.fetchSessions.begin({
    sessionId: req.sessionId ?? 0,
    sessionEpoch: req.sessionEpoch ?? FINAL_EPOCH,
    usesTopicIds: byId,
    partitions,
    forgotten,
  })
}

/** Resolves a topic id to its stream's name and checks Read on the topic (every fetch: rules may change). */
export function fetchTarget(
  c: Connection,
  p: FetchPartitionRequest,
  resolve: (id: Buffer) => Stream | undefined,
): FetchTarget {
  let topic = p.topic ?? ''
  let unknownTopicId = false
  if (p.topicId !== undefined) {
    const stream = resolve(p.topicId)
    if (stream === undefined) unknownTopicId = true
    else topic = stream.name
  }
  return {
    topic,
    topicId: p.topicId,
    unknownTopicId,
    partition: p.partition,
    fetchOffset: p.fetchOffset,
    partitionMaxBytes: p.partitionMaxBytes,
    denied: !unknownTopicId && !c.allows('Read', 'Topic', topic),
  }
}

function recordBytes(records: FetchResponsePartitionData['records']): number {
  if (records === null) return 0
  if (Buffer.isBuffer(records)) return records.length
  let n = 0
  for (const chunk of records) n += chunk.length
  return n
}

/**
 * The response topics: every partition read for a full fetch (a new session remembers what it reported), only
 * the session's partitions with records, an error or a moved offset for an incremental one. Consecutive
 * partitions of one topic share a topic entry, so a full fetch answers in the request's layout.
 */
export function sessionResponses(
  plan: Exclude<FetchPlan, { kind: 'error' }>,
  targets: FetchTarget[],
  data: FetchResponsePartitionData[],
  byId: boolean,
): FetchResponseFetchableTopicResponse[] {
  const responses: FetchResponseFetchableTopicResponse[] = []
  let current: FetchResponseFetchableTopicResponse | undefined
  let currentKey: string | undefined
  targets.forEach((t, i) => {
    const d = data[i]!
    const session = plan.session
    if (session !== undefined) {
      const changed = session.changed(plan.partitions[i]!, {
        errorCode: d.errorCode,
        bytes: recordBytes(d.records),
        highWatermark: d.highWatermark,
        lastStableOffset: d.lastStableOffset ?? d.highWatermark,
        logStartOffset: d.logStartOffset ?? -1,
      })
      if (plan.kind === 'incremental' && !changed) return
    }
    const key = byId ? t.topicId!.toString('hex') : t.topic
    if (current === undefined || key !== currentKey) {
      current = { topic: t.topic, topicId: t.topicId ?? ZERO_TOPIC_ID, partitions: [] }
      currentKey = key
      responses.push(current)
    }
    current.partitions.push(d)
  })
  return responses
}
