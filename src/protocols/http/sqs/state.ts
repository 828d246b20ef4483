// What every SQS action handler shares: the broker, receipt handles, the service's mutable bookkeeping, and
// the queue lookups each action starts with. SqsService owns one SqsState; the handlers (queues.ts, send.ts,
// receive.ts, settle.ts, dead-letters.ts) are plain functions over it, as the Kafka handlers are over a
// Connection.
import type { Broker } from '../../../broker/broker.js'
import type { Catalog } from '../../../broker/catalog.js'
import type { Access } from '../../../broker/security/authorizer.js'
import type { Logger } from '../../../util/logger.js'
import type { ProtocolTraffic } from '../../common/metrics.js'
import { ACCOUNT_ID, type SqsQueueRecord } from './attributes.js'
import { SqsError, toSqsError } from './errors.js'
import type { ReceiptHandles } from './message-codec.js'

/** A decoded request body (PascalCase, as the SDK sends it). */
export type Input = Record<string, unknown>
/** A reply object. */
export type Output = Record<string, unknown>

export interface RequestContext {
  /** Base of queue URLs: the configured `sqsBaseUrl`, else the socket's scheme, address and port (origin.ts). */
  origin: string
  signal: AbortSignal
  /** The caller's authorizer (authorization.ts checks the action; listings filter with it). */
  access: Access
}

/** A message move task (StartMessageMoveTask): dead-letters.ts runs it, the state keeps the list. */
export interface MoveTask {
  handle: string
  source: string
  destination: string | undefined
  status: 'RUNNING' | 'COMPLETED' | 'CANCELLING' | 'CANCELLED' | 'FAILED'
  moved: number
  toMove: number
  started: number
  failureReason?: string
}

export interface SqsState {
  readonly broker: Broker
  /** The SQS-only attributes and tags of each SQS queue. */
  readonly records: Catalog<SqsQueueRecord>
  readonly handles: ReceiptHandles
  readonly logger: Logger
  /** ApproximateFirstReceiveTimestamp is not stored with the record; remembered, bounded, per message. */
  readonly firstReceive: Map<string, number>
  /** Newest first, bounded. */
  readonly moveTasks: MoveTask[]
  /** Sent, received and deleted messages, SendMessage latency, for /metrics (protocol `sqs`). */
  readonly traffic: ProtocolTraffic
}

export function queueUrl(origin: string, name: string): string {
  return `${origin}/${ACCOUNT_ID}/${name}`
}

/** The SQS record of a queue that exists both in the catalog and in the broker; else QueueDoesNotExist. */
export function recordOf(s: SqsState, name: string): SqsQueueRecord {
  const record = s.records.get(name)
  if (record === undefined || s.broker.getQueue(name) === undefined) {
    throw new SqsError('QueueDoesNotExist', 'The specified queue does not exist.')
  }
  return record
}

/** QueueUrl → queue name (the last path segment; the host part is not checked, as ElasticMQ does). */
export function queueNameOf(s: SqsState, input: Input): string {
  const url = input.QueueUrl
  if (typeof url !== 'string' || url === '')
    throw new SqsError('MissingParameter', 'The request must contain the parameter QueueUrl.')
  const path = url.split('?')[0]!.replace(/\/+$/, '')
  const name = path.slice(path.lastIndexOf('/') + 1)
  recordOf(s, name)
  return name
}

export function sqsQueueNames(s: SqsState): string[] {
  return s.records
    .list()
    .map(([name]) => name)
    .filter((name) => s.broker.getQueue(name) !== undefined)
    .sort()
}

/** Any failure as an SqsError; unexpected ones (InternalError) are logged, since the client sees no detail. */
export function mapError(s: SqsState, error: unknown, action: string): SqsError {
  const mapped = toSqsError(error)
  if (mapped.errorName === 'InternalError') s.logger.error({ err: error, action }, 'sqs action failed')
  return mapped
}
