// The data directory's format version: `wharf-format.json` says which on-disk layout the files follow, so a
// release that changes the layout can recognize (and migrate) older directories and a release that meets a
// newer layout refuses it instead of misreading it. Directories from before the file existed are format 1,
// the layout this file was introduced with.
import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { WharfError } from '../../util/errors.js'
import { fsyncDirectory } from './file-pool.js'

/** The layout this code reads and writes. Raise it (and add a migration below) when a file format changes. */
export const DATA_FORMAT = 1
const FILE = 'wharf-format.json'

interface FormatRecord {
  format: number
}

/**
 * Checks (or, for a new or pre-versioning directory, records) the format before anything else is opened.
 * A newer format, or a format file that cannot be read, is refused with the directory and the remedy named.
 */
export async function checkDataFormat(dataDir: string): Promise<void> {
  const path = join(dataDir, FILE)
  let text: string
  try {
    text = await fs.readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    await writeFormat(dataDir, DATA_FORMAT)
    return
  }
  let record: FormatRecord
  try {
    record = JSON.parse(text) as FormatRecord
  } catch {
    throw new WharfError('STORE_CORRUPT', `${path} is not valid JSON; it names the data directory's format`)
  }
  const format = record?.format
  if (!Number.isSafeInteger(format) || format < 1)
    throw new WharfError('STORE_CORRUPT', `${path}: "format" must be a positive integer, got ${JSON.stringify(format)}`)
  if (format > DATA_FORMAT)
    throw new WharfError(
      'UNSUPPORTED_FORMAT',
      `data directory ${dataDir} has format ${format}, written by a newer Wharf; this version reads format ` +
        `${DATA_FORMAT} and older. Run the newer Wharf on it, or start this one with another --data-dir.`,
    )
}

/** Written to a temporary file, synced and renamed over, so a crash leaves the old record or the new one. */
async function writeFormat(dataDir: string, format: number): Promise<void> {
  const path = join(dataDir, FILE)
  const temporary = `${path}.tmp`
  const handle = await fs.open(temporary, 'w')
  try {
    await handle.writeFile(`${JSON.stringify({ format } satisfies FormatRecord)}\n`)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await fs.rename(temporary, path)
  await fsyncDirectory(dataDir)
}
