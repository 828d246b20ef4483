// Snappy as Kafka clients write it. Java (and the xerial library) frames the data:
//   magic 82 53 4e 41 50 50 59 00 | version i32 | compatible version i32 | { length i32 BE | raw snappy block }*
// librdkafka and kafkajs-snappy send one raw snappy block. Decoding accepts both; encoding writes the xerial
// framing because every client (Java's SnappyInputStream, librdkafka, kafkajs-snappy) reads it.
import snappy from 'snappy'
import { corrupt, tooLarge } from './errors.js'

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00])
const XERIAL_HEADER_BYTES = 16
/** SnappyOutputStream's default block size; keeps each raw block small for every reader. */
const XERIAL_BLOCK_BYTES = 32 * 1024

export function isXerial(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_BYTES && XERIAL_MAGIC.equals(data.subarray(0, XERIAL_MAGIC.length))
}

/** The uncompressed length a raw snappy block declares in its leading varint (little-endian base 128, ≤ 32 bits). */
function declaredLength(block: Buffer): number {
  let value = 0
  for (let index = 0; index < 5; index++) {
    if (index >= block.length) throw corrupt('snappy block ends inside its length')
    const byte = block[index]!
    value += (byte & 0x7f) * 2 ** (7 * index)
    if (byte < 0x80) return value
  }
  throw corrupt('snappy block length is longer than 5 bytes')
}

function uncompressBlock(block: Buffer, expected: number): Buffer {
  let output: Buffer
  try {
    output = snappy.uncompressSync(block, { asBuffer: true }) as Buffer
  } catch (error) {
    throw corrupt('snappy block does not decompress', error)
  }
  if (output.length !== expected) throw corrupt('snappy block length does not match its content')
  return output
}

export function snappyDecompress(data: Buffer, maxBytes: number): Buffer {
  if (!isXerial(data)) {
    // Check the declared size before the native decoder allocates it.
    const length = declaredLength(data)
    if (length > maxBytes) throw tooLarge(`snappy block declares ${length} bytes, limit ${maxBytes}`)
    return uncompressBlock(data, length)
  }
  const blocks: Buffer[] = []
  const lengths: number[] = []
  let total = 0
  let pos = XERIAL_HEADER_BYTES
  while (pos < data.length) {
    if (data.length - pos < 4) throw corrupt('xerial snappy chunk length is truncated')
    const size = data.readInt32BE(pos)
    pos += 4
    if (size < 0 || size > data.length - pos) throw corrupt(`xerial snappy chunk length ${size} is out of range`)
    const block = data.subarray(pos, pos + size)
    pos += size
    const length = declaredLength(block)
    total += length
    if (total > maxBytes) throw tooLarge(`xerial snappy data declares more than ${maxBytes} bytes`)
    blocks.push(block)
    lengths.push(length)
  }
  if (blocks.length === 1) return uncompressBlock(blocks[0]!, lengths[0]!)
  const output = Buffer.allocUnsafe(total)
  let written = 0
  for (let index = 0; index < blocks.length; index++) {
    written += uncompressBlock(blocks[index]!, lengths[index]!).copy(output, written)
  }
  return output
}

export function snappyCompress(data: Buffer): Buffer {
  const parts: Buffer[] = [XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_BYTES) {
    const block = snappy.compressSync(data.subarray(pos, pos + XERIAL_BLOCK_BYTES))
    const size = Buffer.allocUnsafe(4)
    size.writeInt32BE(block.length, 0)
    parts.push(size, block)
  }
  return Buffer.concat(parts)
}
