// npm's `prepare` (run by `npm ci`/`npm install` in a clone, and by `npm pack`/`npm publish`): builds dist/ when
// TypeScript is installed and dist/ is missing or older than a source file. A production install of a clone
// (`npm ci --omit=dev`) has no TypeScript: it builds nothing and says so instead of failing the install; the
// published tarball carries dist/, so installing the package never needs a build.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const built = join(root, 'dist', 'index.js')

/** Newest modification time (ms) of the files under dir (recursively). */
function newest(dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
  }
  return latest
}

function stale() {
  if (!existsSync(built)) return true
  const sources = Math.max(
    newest(join(root, 'src')),
    statSync(join(root, 'tsconfig.json')).mtimeMs,
    statSync(join(root, 'tsconfig.build.json')).mtimeMs,
  )
  return sources > statSync(built).mtimeMs
}

let tsc
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc')
} catch {
  tsc = undefined
}

if (!existsSync(join(root, 'src'))) {
  // An installed copy of the package: nothing to build.
} else if (!stale()) {
  console.log('prepare: dist/ is up to date')
} else if (tsc === undefined) {
  console.warn(
    'prepare: TypeScript is not installed (a production install), so dist/ was not built.\n' +
      '  `wharf start` needs dist/: run `npm ci` (with dev dependencies) once, or install the published package.',
  )
} else {
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], {
    cwd: root,
    stdio: 'inherit',
  })
  process.exit(result.status ?? 1)
}
