// The running Wharf's version, read once from package.json (two levels up from src/util and dist/util alike).
import { readFileSync } from 'node:fs'

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version?: unknown
    }
    return typeof pkg.version === 'string' ? pkg.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

export const WHARF_VERSION = readVersion()
