// The README's embedded example must keep running (it imports the built package: npm ci builds dist/).
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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

test("the README's embedded snippet runs twice in a row on the same data directory", (t) => {
  const root = new URL('..', import.meta.url).pathname
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const section = readme.slice(readme.indexOf('## Embedded use'))
  const snippet = /```js\n([\s\S]*?)```/.exec(section)?.[1] ?? ''
  assert.ok(snippet.includes('createBroker'), 'the section has the snippet')
  const dir = mkdtempSync(join(tmpdir(), 'wharf-readme-embedded-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  // The package as the source tree (the name a user imports is the package's; the code is the same).
  const code = snippet
    .replace(/from '[^']+'/, `from '${join(root, 'src/index.ts')}'`)
    .replace("'./data'", JSON.stringify(join(dir, 'data')))
  const file = join(dir, 'embedded.mts')
  writeFileSync(file, code)
  // execFileSync throws, failing the test, when a run exits non-zero (the second used to: queue exists).
  for (let run = 0; run < 2; run++)
    execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 60_000 })
  assert.ok(existsSync(join(dir, 'data')), 'the data directory is where the snippet put it')
})
