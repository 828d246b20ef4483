// What the coordinator reads from the partitions' transaction indexes: after a restart, the transactions still
// open there (never decided, so aborted); for DescribeProducers, each producer's open transaction.
import type { ActiveProducer, ProducerTransactionsHost } from './host.js'
import type { TransactionRecord } from './state.js'

/**
 * The partitions of an open transaction are not persisted with each AddPartitions (that would cost a write
 * per transaction): every partition that ever joined a transaction has a durable index instead, and after a
 * restart whatever transaction is still open in one was never decided, so an abort marker is written there.
 * `fence` is called once for each transactional id found so (its record is marked aborted and its epoch
 * bumped by the coordinator).
 */
export async function abortOpenInPartitions(
  host: ProducerTransactionsHost,
  records: Iterable<TransactionRecord>,
  fence: (record: TransactionRecord) => Promise<void>,
): Promise<void> {
  const byProducer = new Map<number, TransactionRecord>()
  for (const record of records) byProducer.set(record.producerId, record)
  const fenced = new Set<number>()
  for (const stream of host.streams()) {
    for (let partition = 0; partition < stream.partitions.length; partition++) {
      if (!host.indexes.tracked(stream, partition)) continue
      const index = await host.indexes.of(stream, partition)
      for (const producerId of index.openProducers()) {
        const record = byProducer.get(producerId)
        const epoch = record?.producerEpoch ?? 0
        await host.indexes.appendMarker(stream, partition, producerId, epoch, false, host.now())
        if (record !== undefined && !fenced.has(producerId)) {
          fenced.add(producerId)
          host.warn('aborted a producer transaction left open', { transactionalId: record.transactionalId })
          await fence(record)
        }
      }
    }
  }
}

export type DescribedProducer = ActiveProducer & { currentTxnStartOffset: number }

/** The producers a partition tracks, with the first offset of each one's open transaction (-1: none). */
export async function describeProducers(
  host: ProducerTransactionsHost,
  name: string,
  partition: number,
): Promise<DescribedProducer[] | undefined> {
  const stream = host.stream(name)
  if (stream === undefined || !Number.isInteger(partition) || partition < 0 || partition >= stream.partitions.length)
    return undefined
  const producers = (await host.producerState(stream, partition)).producers()
  const index = host.indexes.tracked(stream, partition) ? await host.indexes.of(stream, partition) : null
  return producers.map((p) => ({ ...p, currentTxnStartOffset: index?.openStart(p.producerId) ?? -1 }))
}
