// On-disk format of a kvlog directory (sans-I/O except the small file helpers at the end).
//
// Every entry, in logs and snapshots alike, is framed as [u32 length][u32 crc32c][payload] (little endian).
// The CRC covers the length bytes and the payload, so a flipped length is caught like a flipped payload;
// zero fill (a common torn-write pattern) fails too, because empty payloads are never written.
// A snapshot is a header frame (magic, version, entry count) followed by exactly that many entry frames.
import { open } from 'node:fs/promises'
import { crc32c } from '@node-rs/crc32'

export const FRAME_HEADER_BYTES = 8
/** Upper bound for one entry: bounds the allocation a corrupt length can cause and the size of one mutation. */
export const MAX_ENTRY_BYTES = 64 * 1024 * 1024
const SNAPSHOT_MAGIC = 0x53564b57 // 'WKVS' read as u32 LE
const SNAPSHOT_VERSION = 1
const SNAPSHOT_HEADER_PAYLOAD = 12

export function frameHeader(payload: Buffer): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES)
  header.writeUInt32LE(payload.length, 0)
  header.writeUInt32LE(crc32c(payload, crc32c(header.subarray(0, 4))), 4)
  return header
}

export interface ScanResult {
  /** Bytes from the start of the buffer that hold whole, valid frames. */
  validBytes: number
  entries: number
  /** Why the scan stopped before the end, if it did. */
  problem?: string
}

/**
 * Walks frames from the start of buf, calling onEntry for each valid payload, and stops at the first torn
 * or corrupt frame (or the first payload onEntry rejects by throwing). Never throws itself.
 */
export function scanFrames(buf: Buffer, onEntry: (payload: Buffer) => void): ScanResult {
  let pos = 0
  let entries = 0
  while (pos < buf.length) {
    if (buf.length - pos < FRAME_HEADER_BYTES) return { validBytes: pos, entries, problem: 'torn frame header' }
    const length = buf.readUInt32LE(pos)
    if (length === 0 || length > MAX_ENTRY_BYTES) return { validBytes: pos, entries, problem: `bad length ${length}` }
    if (buf.length - pos - FRAME_HEADER_BYTES < length) return { validBytes: pos, entries, problem: 'torn payload' }
    const payload = buf.subarray(pos + FRAME_HEADER_BYTES, pos + FRAME_HEADER_BYTES + length)
    if (crc32c(payload, crc32c(buf.subarray(pos, pos + 4))) !== buf.readUInt32LE(pos + 4)) {
      return { validBytes: pos, entries, problem: 'crc mismatch' }
    }
    try {
      onEntry(payload)
    } catch (error) {
      return { validBytes: pos, entries, problem: `unreadable entry: ${(error as Error).message}` }
    }
    pos += FRAME_HEADER_BYTES + length
    entries++
  }
  return { validBytes: pos, entries }
}

/** Builds a complete snapshot file image from the state's entry payloads. */
export function encodeSnapshot(payloads: readonly Buffer[]): Buffer {
  const header = Buffer.alloc(SNAPSHOT_HEADER_PAYLOAD)
  header.writeUInt32LE(SNAPSHOT_MAGIC, 0)
  header.writeUInt32LE(SNAPSHOT_VERSION, 4)
  header.writeUInt32LE(payloads.length, 8)
  const parts: Buffer[] = [frameHeader(header), header]
  let total = FRAME_HEADER_BYTES + header.length
  for (const payload of payloads) {
    parts.push(frameHeader(payload), payload)
    total += FRAME_HEADER_BYTES + payload.length
  }
  return Buffer.concat(parts, total)
}

/** Returns the entry payloads of a snapshot image, or a reason why it is not a complete, valid snapshot. */
export function decodeSnapshot(image: Buffer): Buffer[] | string {
  let expected = -1
  const payloads: Buffer[] = []
  let problem: string | undefined
  const scan = scanFrames(image, (payload) => {
    if (expected >= 0) {
      payloads.push(payload)
      return
    }
    if (payload.length !== SNAPSHOT_HEADER_PAYLOAD || payload.readUInt32LE(0) !== SNAPSHOT_MAGIC) {
      problem = 'not a snapshot header'
      throw new Error(problem)
    }
    if (payload.readUInt32LE(4) !== SNAPSHOT_VERSION) {
      problem = `unsupported snapshot version ${payload.readUInt32LE(4)}`
      throw new Error(problem)
    }
    expected = payload.readUInt32LE(8)
  })
  if (problem !== undefined) return problem
  if (scan.problem !== undefined) return `${scan.problem} at byte ${scan.validBytes}`
  if (expected < 0) return 'empty file'
  if (payloads.length !== expected) return `holds ${payloads.length} of ${expected} entries`
  return payloads
}

export const snapshotName = (gen: number): string => `snapshot-${gen}.bin`
export const logName = (gen: number): string => `log-${gen}.bin`

/** Generation numbers of the snapshot and log files in a directory listing (tmp files are returned apart). */
export function classifyFiles(names: readonly string[]): { snapshots: number[]; logs: number[]; tmp: string[] } {
  const snapshots: number[] = []
  const logs: number[] = []
  const tmp: string[] = []
  for (const name of names) {
    const match = /^(snapshot|log)-(\d{1,15})\.bin$/.exec(name)
    if (match) (match[1] === 'snapshot' ? snapshots : logs).push(Number(match[2]))
    else if (name.endsWith('.tmp')) tmp.push(name)
  }
  snapshots.sort((a, b) => a - b)
  logs.sort((a, b) => a - b)
  return { snapshots, logs, tmp }
}

/** Makes creates, renames and unlinks in dir durable (the entries live in the directory, not the files). */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}
