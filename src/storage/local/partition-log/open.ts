// Opening a partition log: finishing an interrupted compaction, reopening sealed segments, recovering the
// active one (a torn or corrupt tail is cut off), and the durable log-start-offset file that records how far
// DeleteRecords and retention moved the start. Runs once, before the log takes appends or reads.
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { fsyncDirectory } from '../file-pool.js'
import { compactLog } from './compaction.js'
import { Segment } from './segment.js'
import { activeSegment, type LogState } from './state.js'

const LOG_START_FILE = 'log-start-offset'

export async function loadLog(s: LogState): Promise<void> {
  await fs.mkdir(s.dir, { recursive: true })
  const names = await fs.readdir(s.dir)
  await compactLog.recoverInterrupted(s.dir, names)
  const bases = (await fs.readdir(s.dir))
    .filter((n) => /^\d{20}\.log$/.test(n))
    .map((n) => Number(n.slice(0, 20)))
    .sort((a, b) => a - b)
  const checkpoint = await readLogStart(s.dir)
  if (bases.length === 0) {
    const segment = new Segment(s.dir, checkpoint, s.pool, s.config.indexIntervalBytes)
    await createSegmentFile(s, segment)
    s.segments = [segment]
  } else {
    for (let i = 0; i < bases.length; i++) {
      const segment = new Segment(s.dir, bases[i]!, s.pool, s.config.indexIntervalBytes)
      if (i < bases.length - 1) {
        await segment.openSealed(bases[i + 1]!, s.config.maxBatchBytes)
      } else {
        const cut = await segment.recover(s.config.maxBatchBytes)
        if (cut > 0) {
          s.hooks.warn('truncated torn or corrupt log tail', {
            log: s.name,
            segment: segment.baseOffset,
            bytesTruncated: cut,
            validBytes: segment.size,
            nextOffset: segment.nextOffset,
          })
        }
      }
      s.segments.push(segment)
    }
  }
  const active = activeSegment(s)
  s.nextOffset = active.nextOffset
  s.highWatermark = active.nextOffset
  s.visibleSegment = active
  s.visibleSize = active.size
  s.logStartOffset = Math.min(Math.max(checkpoint, s.segments[0]!.baseOffset), s.nextOffset)
}

export async function createSegmentFile(s: Pick<LogState, 'dir' | 'pool'>, segment: Segment): Promise<void> {
  const pooled = await s.pool.acquire(segment.logPath, true)
  pooled.release()
  await fsyncDirectory(s.dir)
}

async function readLogStart(dir: string): Promise<number> {
  try {
    const value = Number((await fs.readFile(join(dir, LOG_START_FILE), 'utf8')).trim())
    return Number.isSafeInteger(value) && value >= 0 ? value : 0
  } catch {
    return 0
  }
}

export async function writeLogStart(dir: string, offset: number): Promise<void> {
  const tmp = join(dir, `${LOG_START_FILE}.tmp`)
  await fs.writeFile(tmp, String(offset))
  const handle = await fs.open(tmp, 'r+')
  try {
    await handle.datasync()
  } finally {
    await handle.close()
  }
  await fs.rename(tmp, join(dir, LOG_START_FILE))
}
