// Recovery of a kvlog directory: newest valid snapshot, then every log from its generation on, in order.
// A torn or corrupt log tail is cut off (it can only hold entries whose writers were never acknowledged,
// or damage); a missing link in the chain or an unreadable snapshot with no fallback is STORE_CORRUPT,
// because silently starting from less state would lose acknowledged cursors.
import { readdir, readFile, truncate, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { WharfError } from '../../../util/errors.js'
import { classifyFiles, decodeSnapshot, logName, scanFrames, snapshotName } from './format.js'

export interface Recovered {
  /** Generation of the log to append to. */
  gen: number
  /** Bytes replayed from logs (counts toward the next snapshot). */
  replayedBytes: number
  snapshotBytes: number
}

/** The part of a KvState that recovery drives: replaying entries into it. */
export interface Replay {
  apply(payload: Buffer): void
}

export async function recoverKvDir(dir: string, state: Replay, log: (msg: string) => void): Promise<Recovered> {
  const files = classifyFiles(await readdir(dir))
  for (const name of files.tmp) await unlink(join(dir, name)) // unfinished snapshots: never renamed, never used

  // Newest snapshot whose every frame checks out; newer damaged ones are skipped (and removed once we know
  // the older chain is complete, since they would be chosen again by nothing but this same check).
  let base = -1
  let snapshotBytes = 0
  const damaged: number[] = []
  for (let i = files.snapshots.length - 1; i >= 0 && base < 0; i--) {
    const gen = files.snapshots[i]!
    const image = await readFile(join(dir, snapshotName(gen)))
    const payloads = decodeSnapshot(image)
    if (typeof payloads === 'string') {
      log(`kvlog ${dir}: ignoring ${snapshotName(gen)}: ${payloads}`)
      damaged.push(gen)
      continue
    }
    for (const payload of payloads) {
      try {
        state.apply(payload)
      } catch (error) {
        throw new WharfError('STORE_CORRUPT', `kvlog ${dir}: ${snapshotName(gen)}: ${(error as Error).message}`)
      }
    }
    base = gen
    snapshotBytes = image.length
  }

  const chain = files.logs.filter((gen) => gen >= Math.max(base, 0))
  let expected = Math.max(base, 0)
  for (const gen of chain) {
    if (gen !== expected) {
      throw new WharfError('STORE_CORRUPT', `kvlog ${dir}: ${logName(expected)} is missing (found ${logName(gen)})`)
    }
    expected++
  }
  // A damaged snapshot-<d> can be replaced by replaying the logs up to log-<d-1>, if they still exist.
  if (damaged.some((gen) => gen - 1 >= Math.max(base, 0) && !chain.includes(gen - 1))) {
    throw new WharfError('STORE_CORRUPT', `kvlog ${dir}: damaged snapshot and the logs before it are gone`)
  }

  let replayedBytes = 0
  for (const gen of chain) {
    const path = join(dir, logName(gen))
    const buf = await readFile(path)
    const scan = scanFrames(buf, (payload) => state.apply(payload))
    replayedBytes += scan.validBytes
    if (scan.problem !== undefined) {
      log(
        `kvlog ${dir}: ${logName(gen)}: ${scan.problem} at byte ${scan.validBytes} after ${scan.entries} entries; ` +
          `truncating ${buf.length - scan.validBytes} bytes`,
      )
      await truncate(path, scan.validBytes)
    }
  }

  // Files the chain no longer needs: older generations (a crash between snapshot rename and cleanup) and
  // damaged snapshots whose chain we just replayed instead.
  for (const gen of files.logs) if (gen < base) await unlink(join(dir, logName(gen)))
  for (const gen of files.snapshots) if (gen < base || damaged.includes(gen)) await unlink(join(dir, snapshotName(gen)))

  return { gen: chain.at(-1) ?? Math.max(base, 0), replayedBytes, snapshotBytes }
}
