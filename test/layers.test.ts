// Enforces the import arrows: util <- record <- storage <- broker <- protocols <- server <- cli.
// A module may import only from its own layer or a layer below; protocols never import each other;
// upper layers may reach storage only through src/storage/api.ts (and the engine factory in server).
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { test } from 'node:test'

const root = resolve(import.meta.dirname, '..')
const src = join(root, 'src')
const layers = ['util', 'record', 'storage', 'broker', 'protocols', 'server', 'cli'] as const

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : []
  })
}

/** Layer index of a file under src/; src/index.ts (the embedded API) counts as broker. */
function layerOf(file: string): number {
  const top = relative(src, file).split('/')[0]!
  if (top === 'index.ts') return layers.indexOf('broker')
  const index = layers.indexOf(top as (typeof layers)[number])
  assert.notEqual(index, -1, `${relative(root, file)} is outside the known layers`)
  return index
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers: string[] = []
  for (const match of text.matchAll(
    /(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g,
  )) {
    specifiers.push((match[1] ?? match[2] ?? match[3])!)
  }
  return specifiers
}

test('src imports point down the layers only', () => {
  const violations: string[] = []
  for (const file of files(src)) {
    const own = layerOf(file)
    for (const specifier of importsOf(file)) {
      if (!specifier.startsWith('.')) continue
      const target = resolve(dirname(file), specifier).replace(/\.js$/, '.ts')
      if (!target.startsWith(src)) {
        violations.push(`${relative(root, file)} imports ${specifier} outside src/`)
        continue
      }
      const other = layerOf(target)
      const rel = relative(src, target)
      if (other > own) violations.push(`${relative(root, file)} (${layers[own]}) imports ${rel} (${layers[other]})`)
      const [ownTop, ownProtocol] = relative(src, file).split('/')
      const [, otherProtocol] = rel.split('/')
      if (ownTop === 'protocols' && other === layers.indexOf('protocols') && ownProtocol !== otherProtocol) {
        violations.push(`${relative(root, file)} imports another protocol: ${rel}`)
      }
      const storageInternal = other === layers.indexOf('storage') && rel !== 'storage/api.ts'
      // src/index.ts is the embedded composition root: it alone picks the storage implementation.
      const compositionRoot = relative(src, file) === 'index.ts'
      if (storageInternal && !compositionRoot && own > layers.indexOf('storage') && own < layers.indexOf('server')) {
        violations.push(`${relative(root, file)} reaches into storage internals (${rel}); use storage/api.ts`)
      }
    }
  }
  assert.deepEqual(violations, [])
})

test('the layer checker sees a known downward import', () => {
  // Guards against the checker silently matching nothing: the CLI must import the server layer.
  const imports = importsOf(join(src, 'cli', 'main.ts'))
  assert.ok(
    imports.some((s) => s.includes('../server/')),
    'cli/main.ts should import from server/',
  )
  assert.equal(layerOf(join(src, 'broker', 'x.ts')), 3)
})

test('protocols reach broker state only through the broker API, never its storage', () => {
  const violations: string[] = []
  const protocolFiles = files(join(src, 'protocols'))
  for (const file of protocolFiles) {
    const text = readFileSync(file, 'utf8')
    for (const match of text.matchAll(/\.storage\b|\bstorage\.(metadata|cursors|memoryCursors)\b/g))
      violations.push(`${relative(root, file)}: ${match[0]} (use broker.catalog(kind) or another broker method)`)
  }
  assert.ok(protocolFiles.length > 50, 'the scan sees the protocol adapters')
  assert.deepEqual(violations, [])
})
