// `prepare` runs on every `npm ci` of a clone, including a production one (`npm ci --omit=dev`) that has no
// TypeScript: there it must succeed without building, and when dist/ is newer than every source it must not
// rebuild (so `npm pack` after a build is quick). Run on a copy of the project's skeleton without node_modules.
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { root } from './harness.ts'

function skeleton(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-prepare-'))
  mkdirSync(join(dir, 'scripts'))
  mkdirSync(join(dir, 'src'))
  for (const file of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'scripts/prepare.mjs'])
    copyFileSync(join(root, file), join(dir, file))
  writeFileSync(join(dir, 'src', 'index.ts'), 'export const x = 1\n')
  return dir
}

function prepare(dir: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [join(dir, 'scripts', 'prepare.mjs')], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
  })
}

test('prepare without TypeScript (npm ci --omit=dev) succeeds, builds nothing and says so', (t) => {
  const dir = skeleton()
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const result = prepare(dir)
  assert.equal(result.status, 0, result.stderr)
  assert.match(result.stderr, /TypeScript is not installed/)
  assert.ok(!existsSync(join(dir, 'dist')))
})

test('prepare leaves an up-to-date dist/ alone', (t) => {
  const dir = skeleton()
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'dist'))
  writeFileSync(join(dir, 'dist', 'index.js'), '')
  const past = new Date(Date.now() - 60_000)
  for (const file of ['src/index.ts', 'tsconfig.json', 'tsconfig.build.json']) utimesSync(join(dir, file), past, past)
  const result = prepare(dir)
  assert.equal(result.status, 0, result.stderr)
  assert.match(result.stdout, /dist\/ is up to date/)
})
