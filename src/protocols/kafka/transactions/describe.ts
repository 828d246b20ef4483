// DescribeTransactions, ListTransactions (KIP-664) and DescribeProducers: what the coordinator and the
// partitions know about transactional ids and producers. Describe on a transactional id to see it, Read on a
// topic for its producers, as Kafka does.
import type { TransactionState } from '../../../broker/producer-transactions/state.js'
import { TRANSACTION_STATES } from '../../../broker/producer-transactions/state.js'
import { coordinatorRefusal } from '../cluster.js'
import type {
  DescribeProducersRequest,
  DescribeProducersResponse,
  DescribeTransactionsRequest,
  DescribeTransactionsResponse,
  ListTransactionsRequest,
  ListTransactionsResponse,
} from '../codec/index.js'
import type { Connection } from '../connection.js'
import { errorCodeOf, KafkaError } from '../errors.js'

export async function handleDescribeTransactions(
  c: Connection,
  req: DescribeTransactionsRequest,
): Promise<DescribeTransactionsResponse> {
  const txns = c.server.broker.producerTransactions
  const described = req.transactionalIds.map(async (transactionalId) => {
    const unknown = (errorCode: number) => ({
      errorCode,
      transactionalId,
      transactionState: '',
      transactionTimeoutMs: 0,
      transactionStartTimeMs: -1,
      producerId: -1,
      producerEpoch: -1,
      topics: [],
    })
    if (!c.allows('Describe', 'TransactionalId', transactionalId))
      return unknown(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
    // On a cluster the id's coordinator answers (the admin client asks it through FindCoordinator).
    const refused = coordinatorRefusal(c.server.broker, 'transaction', transactionalId)
    if (refused !== KafkaError.NONE) return unknown(refused)
    const r = await txns.describe(transactionalId)
    if (r === undefined) return unknown(KafkaError.TRANSACTIONAL_ID_NOT_FOUND)
    const byTopic = new Map<string, number[]>()
    for (const [topic, partition] of r.partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition])
    return {
      errorCode: KafkaError.NONE,
      transactionalId,
      transactionState: r.state,
      transactionTimeoutMs: r.timeoutMs,
      transactionStartTimeMs: r.startedAt,
      producerId: r.producerId,
      producerEpoch: r.producerEpoch,
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
    }
  })
  return { throttleTimeMs: 0, transactionStates: await Promise.all(described) }
}

export function handleListTransactions(c: Connection, req: ListTransactionsRequest): ListTransactionsResponse {
  const states = new Set(req.stateFilters)
  const unknownStateFilters = req.stateFilters.filter((s) => !TRANSACTION_STATES.includes(s as TransactionState))
  const producerIds = new Set(req.producerIdFilters)
  const now = c.server.broker.now()
  const minDuration = req.durationFilter ?? -1
  const transactionStates = c.server.broker.producerTransactions
    .list()
    .filter(
      (r) =>
        (states.size === 0 || states.has(r.state)) &&
        (producerIds.size === 0 || producerIds.has(r.producerId)) &&
        (minDuration < 0 || (r.startedAt >= 0 && now - r.startedAt >= minDuration)) &&
        c.allows('Describe', 'TransactionalId', r.transactionalId),
    )
    .map((r) => ({ transactionalId: r.transactionalId, producerId: r.producerId, transactionState: r.state }))
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, unknownStateFilters, transactionStates }
}

export async function handleDescribeProducers(
  c: Connection,
  req: DescribeProducersRequest,
): Promise<DescribeProducersResponse> {
  const txns = c.server.broker.producerTransactions
  const topics = []
  for (const t of req.topics) {
    const readable = c.allows('Read', 'Topic', t.name)
    const partitions = []
    for (const partitionIndex of t.partitionIndexes) {
      const failed = (errorCode: number, errorMessage: string | null = null) => ({
        partitionIndex,
        errorCode,
        errorMessage,
        activeProducers: [],
      })
      if (!readable) {
        partitions.push(failed(KafkaError.TOPIC_AUTHORIZATION_FAILED))
        continue
      }
      try {
        const producers = await txns.describeProducers(t.name, partitionIndex)
        if (producers === undefined) partitions.push(failed(KafkaError.UNKNOWN_TOPIC_OR_PARTITION))
        else
          partitions.push({
            partitionIndex,
            errorCode: KafkaError.NONE,
            errorMessage: null,
            activeProducers: producers.map((p) => ({ ...p, coordinatorEpoch: p.currentTxnStartOffset >= 0 ? 0 : -1 })),
          })
      } catch (error) {
        partitions.push(failed(errorCodeOf(error), String(error)))
      }
    }
    topics.push({ name: t.name, partitions })
  }
  return { throttleTimeMs: 0, topics }
}
