// Transaction markers: the control batch that ends a producer's transaction in one partition, in Kafka's
// format (EndTransactionMarker): one record, key = version 0 + type (0 abort, 1 commit), value = version 0 +
// coordinator epoch; the batch carries the producer id and epoch, is transactional and control, and has no
// sequence. Every Kafka client recognises and skips it; the broker reads it back to rebuild its index.
import { decodeBatch, encodeBatch } from '../../record/index.js'

const ABORT = 0
const COMMIT = 1

export function encodeMarker(
  producerId: number,
  producerEpoch: number,
  commit: boolean,
  coordinatorEpoch: number,
  timestamp: number,
): Buffer {
  const key = Buffer.alloc(4)
  key.writeInt16BE(0, 0)
  key.writeInt16BE(commit ? COMMIT : ABORT, 2)
  const value = Buffer.alloc(6)
  value.writeInt16BE(0, 0)
  value.writeInt32BE(coordinatorEpoch, 2)
  return encodeBatch([{ key, value, timestamp }], {
    isControl: true,
    isTransactional: true,
    producerId,
    producerEpoch,
    baseSequence: -1,
  })
}

/** Whether a stored control batch is a commit (true), an abort (false), or some other control record (null). */
export function markerIsCommit(batch: Buffer): boolean | null {
  const key = decodeBatch(batch).records[0]?.key
  if (key == null || key.length < 4) return null
  const type = key.readInt16BE(2)
  return type === COMMIT ? true : type === ABORT ? false : null
}
