// Kafka's default partitioner for keyed records. Must be bit-identical to the Java client's
// Utils.murmur2 / DefaultPartitioner (and kafkajs, which mirrors it), or records produced by
// different clients with the same key land in different partitions and per-key order breaks.
import { assert } from '../../util/assert.js'

const seed = 0x9747b28c
const m = 0x5bd1e995
const r = 24

/**
 * Kafka's murmur2 variant (org.apache.kafka.common.utils.Utils.murmur2): seed 0x9747b28c,
 * little-endian 4-byte blocks, signed 32-bit result. Math.imul gives Java's wrapping int multiply.
 */
export function murmur2(key: Uint8Array): number {
  const length = key.length
  let h = (seed ^ length) | 0
  const length4 = length >>> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2
    let k = key[i4]! | (key[i4 + 1]! << 8) | (key[i4 + 2]! << 16) | (key[i4 + 3]! << 24)
    k = Math.imul(k, m)
    k ^= k >>> r
    k = Math.imul(k, m)
    h = Math.imul(h, m) ^ k
  }
  // Java falls through the switch (3 → 2 → 1); written as ifs for noFallthroughCasesInSwitch.
  const tail = length & 3
  const base = length & ~3
  if (tail === 3) h ^= key[base + 2]! << 16
  if (tail >= 2) h ^= key[base + 1]! << 8
  if (tail >= 1) {
    h ^= key[base]!
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/** Kafka's toPositive: clears the sign bit (not Math.abs, which differs for negatives and MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/** The partition Kafka's default partitioner picks for a non-null key, over all partitions. */
export function partitionForKey(key: Uint8Array, partitions: number): number {
  assert(Number.isInteger(partitions) && partitions > 0, `partition count must be a positive integer: ${partitions}`)
  return toPositive(murmur2(key)) % partitions
}
