// Record codec throughput for 1 KiB records: node --import tsx bench/record.ts [seconds-per-case]
// Prints MB/s of record bytes for encode, validate, decode (per codec) and raw CRC32C.
import { randomBytes } from 'node:crypto'
import { Compression, crc32c, decodeBatch, encodeBatch, type RecordInput, validateBatch } from '../src/record/index.ts'

const seconds = Number(process.argv[2] ?? 0.5)
const RECORDS_PER_BATCH = 100
const VALUE_BYTES = 1024
// Half random, half repetitive, so that compression has something to do without being trivial.
const records: RecordInput[] = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
  key: Buffer.from(`key-${i}`),
  value: Buffer.concat([randomBytes(VALUE_BYTES / 2), Buffer.alloc(VALUE_BYTES / 2, i)]),
  headers: [{ key: 'trace', value: Buffer.from('abc') }],
  timestamp: 1_700_000_000_000 + i,
}))
const payloadBytes = RECORDS_PER_BATCH * VALUE_BYTES

function measure(name: string, bytesPerOp: number, op: () => void): void {
  for (let i = 0; i < 20; i++) op() // warm-up
  const deadline = performance.now() + seconds * 1000
  const started = performance.now()
  let ops = 0
  while (performance.now() < deadline) {
    op()
    ops++
  }
  const elapsed = (performance.now() - started) / 1000
  console.log(`${name.padEnd(28)} ${((ops * bytesPerOp) / elapsed / 1e6).toFixed(0).padStart(6)} MB/s`)
}

for (const codec of [Compression.None, Compression.Gzip, Compression.Snappy, Compression.Lz4, Compression.Zstd]) {
  const name = Compression[codec]
  const batch = encodeBatch(records, { compression: codec })
  measure(`encode ${name}`, payloadBytes, () => encodeBatch(records, { compression: codec }))
  measure(`validate ${name}`, payloadBytes, () => validateBatch(batch))
  measure(`decode ${name}`, payloadBytes, () => decodeBatch(batch))
}
const big = randomBytes(1024 * 1024)
measure('crc32c 1 MiB', big.length, () => crc32c(big))
