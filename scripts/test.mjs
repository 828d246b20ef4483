// Runs every test/**/*.test.ts with node:test through tsx (Node 20's --test has no globs).
// Usage: node scripts/test.mjs [filter-substring ...]
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const filters = process.argv.slice(2)

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) collect(path, out)
    else if (name.endsWith('.test.ts')) out.push(relative(root, path))
  }
  return out
}

const files = collect(join(root, 'test'), [])
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()
if (files.length === 0) {
  console.error('no test files matched')
  process.exit(1)
}
const concurrency = process.env.WHARF_TEST_CONCURRENCY ?? '2'
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    // A stuck test fails after 5 minutes instead of hanging CI; the long soak mode (WHARF_LONG=1) gets an hour.
    `--test-timeout=${process.env.WHARF_LONG === '1' ? 3_600_000 : 300_000}`,
    // A file whose tests finished exits even if a client library left a handle open.
    '--test-force-exit',
    '--test-reporter=spec',
    ...files,
  ],
  { cwd: root, stdio: 'inherit' },
)
process.exit(result.status ?? 1)
