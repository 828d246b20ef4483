// The README's embedded example must keep running (it imports the built package: npm ci builds dist/).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { test } from 'node:test'

test('examples/embedded.mjs runs against the built package', (t) => {
  const root = new URL('..', import.meta.url).pathname
  if (!existsSync(`${root}dist/index.js`)) {
    t.skip('dist/ not built (run npm ci or npm run build)')
    return
  }
  const out = execFileSync(process.execPath, ['examples/embedded.mjs'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  })
  assert.match(out, /queue: welcome alice \(delivery 1\)/)
  assert.match(out, /queue: welcome bob \(delivery 1\)/)
  assert.match(out, /log: partition \d offset 0: \{"total":9.5\}/)
  assert.match(out, /exchange: routed to 1 queue\(s\)/)
})
