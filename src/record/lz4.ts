// LZ4 frame format (lz4_Frame_format.md), which every Kafka client uses for codec 3. The frame structure is walked
// here before lz4-napi sees it, for two reasons found by probing lz4-napi 2.10: it decodes only the first frame
// and silently ignores truncation and trailing bytes; and it allocates as it decodes, so a bomb must be refused
// from the block sizes first. A compressed LZ4 block of n bytes expands to at most 255·n bytes (one match-length
// byte adds at most 255 output bytes) and never beyond the frame's block maximum. That bound overestimates the
// last, partly filled block of a frame, so a frame is refused only when its bound exceeds maxBytes by more than
// one block maximum: decoding may then allocate up to maxBytes + one block (64 KiB from Java, at most 4 MiB)
// before the exact output size is checked.
import * as lz4 from 'lz4-napi'
import { WharfError } from '../util/errors.js'
import { corrupt, tooLarge } from './errors.js'
import { needBytes, skippableFrameEnd } from './skippable.js'

const FRAME_MAGIC = 0x184d2204
const FLAG_BLOCK_CHECKSUM = 0x10
const FLAG_CONTENT_SIZE = 0x08
const FLAG_CONTENT_CHECKSUM = 0x04
const FLAG_RESERVED = 0x02
const FLAG_DICTIONARY_ID = 0x01
const BLOCK_UNCOMPRESSED = 0x80000000
const LZ4_MAX_EXPANSION = 255

interface Frame {
  start: number
  end: number
  /** Upper bound of the decoded size. */
  bound: number
  /** Declared content size, or -1. */
  contentSize: number
  blockMax: number
}

function need(data: Buffer, pos: number, bytes: number): void {
  needBytes(data, pos, bytes, 'lz4')
}

/** Parses one frame starting at pos (after checking its magic) and returns where it ends and how big it may get. */
function walkFrame(data: Buffer, start: number, maxBytes: number): Frame {
  let pos = start + 4
  need(data, pos, 3)
  const flags = data[pos]!
  const descriptor = data[pos + 1]!
  pos += 2
  if (flags >> 6 !== 1) throw corrupt('lz4 frame version is not 01')
  if ((flags & FLAG_RESERVED) !== 0 || (descriptor & 0x8f) !== 0) throw corrupt('lz4 frame sets reserved bits')
  const blockMaxCode = (descriptor >> 4) & 0x07
  if (blockMaxCode < 4) throw corrupt(`lz4 block maximum code ${blockMaxCode} is invalid`)
  const blockMax = 1 << (2 * blockMaxCode + 8) // 4 → 64 KiB … 7 → 4 MiB
  let contentSize = -1
  if ((flags & FLAG_CONTENT_SIZE) !== 0) {
    need(data, pos, 8)
    const high = data.readUInt32LE(pos + 4)
    contentSize = high * 4294967296 + data.readUInt32LE(pos)
    if (contentSize > maxBytes) throw tooLarge(`lz4 frame declares ${contentSize} bytes, limit ${maxBytes}`)
    pos += 8
  }
  // Kafka never uses LZ4 dictionaries; without the dictionary the frame cannot be decoded.
  if ((flags & FLAG_DICTIONARY_ID) !== 0) throw corrupt('lz4 frame needs a dictionary')
  need(data, pos, 1)
  pos += 1 // header checksum, verified by the decoder
  const checksumBytes = (flags & FLAG_BLOCK_CHECKSUM) !== 0 ? 4 : 0
  let bound = 0
  for (;;) {
    need(data, pos, 4)
    const word = data.readUInt32LE(pos)
    pos += 4
    if (word === 0) break // end mark
    const size = (word & ~BLOCK_UNCOMPRESSED) >>> 0
    if (size > blockMax) throw corrupt(`lz4 block of ${size} bytes exceeds its frame maximum ${blockMax}`)
    need(data, pos, size + checksumBytes)
    pos += size + checksumBytes
    bound += (word & BLOCK_UNCOMPRESSED) !== 0 ? size : Math.min(blockMax, size * LZ4_MAX_EXPANSION)
    if (bound > maxBytes + blockMax) throw tooLarge(`lz4 frame decodes to more than ${maxBytes} bytes`)
  }
  if ((flags & FLAG_CONTENT_CHECKSUM) !== 0) {
    need(data, pos, 4)
    pos += 4
  }
  return { start, end: pos, bound, contentSize, blockMax }
}

export function lz4Decompress(data: Buffer, maxBytes: number): Buffer {
  const frames: Frame[] = []
  let total = 0
  let slack = 0
  let pos = 0
  if (data.length === 0) throw corrupt('lz4 data is empty')
  while (pos < data.length) {
    const skipped = skippableFrameEnd(data, pos, 'lz4')
    if (skipped !== null) {
      pos = skipped
      continue
    }
    if (data.readUInt32LE(pos) !== FRAME_MAGIC)
      throw corrupt('lz4 data does not start with the frame magic 04 22 4d 18')
    const frame = walkFrame(data, pos, maxBytes)
    total += frame.bound
    slack = Math.max(slack, frame.blockMax)
    if (total > maxBytes + slack) throw tooLarge(`lz4 data decodes to more than ${maxBytes} bytes`)
    frames.push(frame)
    pos = frame.end
  }
  const outputs: Buffer[] = []
  let produced = 0
  for (const frame of frames) {
    const output = decodeFrame(data.subarray(frame.start, frame.end), frame)
    produced += output.length
    if (produced > maxBytes) throw tooLarge(`lz4 data decodes to more than ${maxBytes} bytes`)
    outputs.push(output)
  }
  return outputs.length === 1 ? outputs[0]! : Buffer.concat(outputs, produced)
}

function decodeFrame(bytes: Buffer, frame: Frame): Buffer {
  let output: Buffer
  try {
    output = lz4.decompressFrameSync(bytes)
  } catch (error) {
    if (error instanceof WharfError) throw error
    throw corrupt('lz4 frame does not decompress', error)
  }
  if (output.length > frame.bound) throw corrupt('lz4 frame decoded beyond its block sizes')
  if (frame.contentSize >= 0 && output.length !== frame.contentSize) {
    throw corrupt('lz4 frame content size does not match its content')
  }
  return output
}

export function lz4Compress(data: Buffer): Buffer {
  // lz4_flex's defaults: 64 KiB independent blocks, no checksums, which Java's KafkaLZ4BlockInputStream reads.
  return lz4.compressFrameSync(data)
}
