// The transaction coordinator's APIs (KIP-98): InitProducerId with a transactional id, AddPartitionsToTxn,
// AddOffsetsToTxn, TxnOffsetCommit and EndTxn, over broker.producerTransactions. Authorization as Kafka:
// Write on the transactional id for all of them, plus Write on each topic added and Read on the group whose
// offsets the transaction commits.

import type { Outcome } from '../../../broker/producer-transactions/host.js'
import { coordinatorElsewhere, coordinatorRefusal } from '../cluster.js'
import type {
  AddOffsetsToTxnRequest,
  AddOffsetsToTxnResponse,
  AddPartitionsToTxnRequest,
  AddPartitionsToTxnResponse,
  AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult,
  EndTxnRequest,
  EndTxnResponse,
  InitProducerIdRequest,
  InitProducerIdResponse,
  TxnOffsetCommitRequest,
  TxnOffsetCommitResponse,
} from '../codec/index.js'
import type { Connection } from '../connection.js'
import { errorCodeOf, groupErrorCode, KafkaError, transactionErrorCode } from '../errors.js'
import { groupRefusal } from '../group-loads.js'

/** InitProducerId for a transactional producer: its stable id, with the epoch bumped (fencing older instances). */
export async function initTransactionalProducer(
  c: Connection,
  req: InitProducerIdRequest,
  version: number,
): Promise<InitProducerIdResponse> {
  const failed = (errorCode: number) => ({ throttleTimeMs: 0, errorCode, producerId: -1, producerEpoch: -1 })
  const id = req.transactionalId!
  if (!c.allows('Write', 'TransactionalId', id)) return failed(KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
  const notCoordinator = coordinatorRefusal(c.server.broker, 'transaction', id)
  if (notCoordinator !== KafkaError.NONE) return failed(notCoordinator)
  try {
    const expected =
      req.producerId !== undefined && req.producerId >= 0
        ? { producerId: req.producerId, producerEpoch: req.producerEpoch ?? -1 }
        : undefined
    const out = await c.server.broker.producerTransactions.init(id, req.transactionTimeoutMs, expected)
    if (!out.ok) return failed(transactionErrorCode(out.refusal, version >= 4))
    return {
      throttleTimeMs: 0,
      errorCode: KafkaError.NONE,
      producerId: out.producerId,
      producerEpoch: out.producerEpoch,
    }
  } catch (error) {
    return failed(errorCodeOf(error))
  }
}

async function addPartitions(
  c: Connection,
  id: string,
  producerId: number,
  producerEpoch: number,
  topics: Array<{ name: string; partitions: number[] }>,
  version: number,
): Promise<AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult[]> {
  const every = (code: (topic: string) => number) =>
    topics.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((partitionIndex) => ({ partitionIndex, partitionErrorCode: code(t.name) })),
    }))
  if (!c.allows('Write', 'TransactionalId', id)) return every(() => KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
  const notCoordinator = coordinatorRefusal(c.server.broker, 'transaction', id)
  if (notCoordinator !== KafkaError.NONE) return every(() => notCoordinator)
  // Kafka: a denied topic fails it, and every other partition of the request is not attempted.
  const denied = new Set(topics.filter((t) => !c.allows('Write', 'Topic', t.name)).map((t) => t.name))
  if (denied.size > 0)
    return every((name) =>
      denied.has(name) ? KafkaError.TOPIC_AUTHORIZATION_FAILED : KafkaError.OPERATION_NOT_ATTEMPTED,
    )
  const partitions = topics.flatMap((t) => t.partitions.map((p): [string, number] => [t.name, p]))
  try {
    const out = await c.server.broker.producerTransactions.addPartitions(id, producerId, producerEpoch, partitions)
    if (!out.ok) {
      const code = transactionErrorCode(out.refusal, version >= 2)
      return every(() => code)
    }
    if (out.failed.size === 0) return every(() => KafkaError.NONE)
    return topics.map((t) => ({
      name: t.name,
      resultsByPartition: t.partitions.map((partitionIndex) => {
        const refusal = out.failed.get(`${t.name}:${partitionIndex}`)
        const partitionErrorCode =
          refusal === undefined ? KafkaError.OPERATION_NOT_ATTEMPTED : transactionErrorCode(refusal, version >= 2)
        return { partitionIndex, partitionErrorCode }
      }),
    }))
  } catch (error) {
    const code = errorCodeOf(error)
    return every(() => code)
  }
}

export async function handleAddPartitionsToTxn(
  c: Connection,
  req: AddPartitionsToTxnRequest,
  version: number,
): Promise<AddPartitionsToTxnResponse> {
  if (version <= 3) {
    const results = await addPartitions(
      c,
      req.v3AndBelowTransactionalId ?? '',
      req.v3AndBelowProducerId ?? -1,
      req.v3AndBelowProducerEpoch ?? -1,
      req.v3AndBelowTopics ?? [],
      version,
    )
    return { throttleTimeMs: 0, resultsByTopicV3AndBelow: results }
  }
  const resultsByTransaction = []
  for (const t of req.transactions ?? []) {
    const id = t.transactionalId ?? ''
    const topicResults = await addPartitions(c, id, t.producerId ?? -1, t.producerEpoch ?? -1, t.topics ?? [], version)
    resultsByTransaction.push({ transactionalId: id, topicResults })
  }
  return { throttleTimeMs: 0, errorCode: KafkaError.NONE, resultsByTransaction }
}

export async function handleAddOffsetsToTxn(
  c: Connection,
  req: AddOffsetsToTxnRequest,
  version: number,
): Promise<AddOffsetsToTxnResponse> {
  if (!c.allows('Write', 'TransactionalId', req.transactionalId))
    return { throttleTimeMs: 0, errorCode: KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED }
  if (!c.allows('Read', 'Group', req.groupId))
    return { throttleTimeMs: 0, errorCode: KafkaError.GROUP_AUTHORIZATION_FAILED }
  const notCoordinator = coordinatorRefusal(c.server.broker, 'transaction', req.transactionalId)
  if (notCoordinator !== KafkaError.NONE) return { throttleTimeMs: 0, errorCode: notCoordinator }
  try {
    const txns = c.server.broker.producerTransactions
    const out = await txns.addGroup(req.transactionalId, req.producerId, req.producerEpoch, req.groupId)
    return { throttleTimeMs: 0, errorCode: out.ok ? KafkaError.NONE : transactionErrorCode(out.refusal, version >= 2) }
  } catch (error) {
    return { throttleTimeMs: 0, errorCode: errorCodeOf(error) }
  }
}

export async function handleTxnOffsetCommit(
  c: Connection,
  req: TxnOffsetCommitRequest,
  version: number,
): Promise<TxnOffsetCommitResponse> {
  const every = (code: (topic: string) => number): TxnOffsetCommitResponse => ({
    throttleTimeMs: 0,
    topics: req.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code(t.name) })),
    })),
  })
  if (!c.allows('Write', 'TransactionalId', req.transactionalId))
    return every(() => KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
  if (!c.allows('Read', 'Group', req.groupId)) return every(() => KafkaError.GROUP_AUTHORIZATION_FAILED)
  // TxnOffsetCommit goes to the group's coordinator (it holds the offsets), the others to the transaction's.
  const notCoordinator = groupRefusal(c.server, req.groupId)
  if (notCoordinator !== KafkaError.NONE) return every(() => notCoordinator)
  // v3+ (KIP-447) names the consumer's member and generation: a zombie of an older generation is refused as
  // OffsetCommit refuses it (fields absent before v3 read as "no member").
  const member = c.server.broker.groups.validateTransactionalCommit({
    groupId: req.groupId,
    generationId: req.generationId ?? -1,
    memberId: req.memberId ?? '',
    groupInstanceId: req.groupInstanceId ?? null,
  })
  if (member !== 'NONE') {
    const code = groupErrorCode(member)
    return every(() => code)
  }
  const denied = new Set(req.topics.filter((t) => !c.allows('Read', 'Topic', t.name)).map((t) => t.name))
  const offsets = req.topics
    .filter((t) => !denied.has(t.name))
    .flatMap((t) =>
      t.partitions.map((p) => ({
        group: req.groupId,
        stream: t.name,
        partition: p.partitionIndex,
        offset: p.committedOffset,
        metadata: p.committedMetadata ?? '',
      })),
    )
  try {
    const broker = c.server.broker
    const { transactionalId, producerId, producerEpoch } = req
    // On a cluster the transaction may be coordinated by another broker, which holds its offsets until it ends.
    const elsewhere = coordinatorElsewhere(broker, 'transaction', transactionalId)
    const out = (
      elsewhere === undefined
        ? await broker.producerTransactions.commitOffsets(transactionalId, producerId, producerEpoch, offsets)
        : await broker.clusterLink.ask(elsewhere, 'txn-offsets', {
            transactionalId,
            producerId,
            producerEpoch,
            offsets,
          })
    ) as Outcome
    const code = out.ok ? KafkaError.NONE : transactionErrorCode(out.refusal, version >= 3)
    return every((name) => (denied.has(name) ? KafkaError.TOPIC_AUTHORIZATION_FAILED : code))
  } catch (error) {
    const code = errorCodeOf(error)
    return every(() => code)
  }
}

export async function handleEndTxn(c: Connection, req: EndTxnRequest, version: number): Promise<EndTxnResponse> {
  if (!c.allows('Write', 'TransactionalId', req.transactionalId))
    return { throttleTimeMs: 0, errorCode: KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED }
  const notCoordinator = coordinatorRefusal(c.server.broker, 'transaction', req.transactionalId)
  if (notCoordinator !== KafkaError.NONE) return { throttleTimeMs: 0, errorCode: notCoordinator }
  try {
    const txns = c.server.broker.producerTransactions
    const out = await txns.end(req.transactionalId, req.producerId, req.producerEpoch, req.committed)
    return { throttleTimeMs: 0, errorCode: out.ok ? KafkaError.NONE : transactionErrorCode(out.refusal, version >= 2) }
  } catch (error) {
    return { throttleTimeMs: 0, errorCode: errorCodeOf(error) }
  }
}
