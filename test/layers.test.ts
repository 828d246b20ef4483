// Enforces the import arrows: util <- record <- storage <- broker <- protocols <- server <- cli.
// A module may import only from its own layer or a layer below; protocols never import each other (all may
// import the adapter kit in protocols/common, which imports none of them);
// upper layers may reach storage only through src/storage/api.ts (and the engine factory in server).
// It also fails on any import cycle (type-only edges count) and on any hand-written file over 400 lines.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
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

/** Codecs written by tools/codegen: exempt from the line limit (the cycle check covers them too). */
function generated(file: string): boolean {
  return file.split('/').includes('generated')
}

function lineCount(text: string): number {
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
}

/** Every relative import edge among src/ files, type-only imports included. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const file of files(src)) {
    const targets = importsOf(file)
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(src, resolve(dirname(file), s).replace(/\.js$/, '.ts')))
    graph.set(relative(src, file), [...new Set(targets)])
  }
  return graph
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (node: string): void => {
    index.set(node, index.size)
    low.set(node, index.get(node)!)
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next)
        low.set(node, Math.min(low.get(node)!, low.get(next)!))
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!))
      }
    }
    if (low.get(node) !== index.get(node)) return
    const component: string[] = []
    let member: string
    do {
      member = stack.pop()!
      onStack.delete(member)
      component.push(member)
    } while (member !== node)
    if (component.length > 1 || graph.get(node)?.includes(node)) found.push(component.sort())
  }
  for (const node of graph.keys()) if (!index.has(node)) visit(node)
  return found
}

test('src has no import cycles, type-only imports included', () => {
  const found = cycles(importGraph()).map((c) => `${c.length} files: ${c.join(', ')}`)
  assert.deepEqual(found, [], `import cycles:\n${found.join('\n')}`)
})

test('the cycle finder finds a cycle and ignores a chain', () => {
  const graph = new Map([
    ['a.ts', ['b.ts']],
    ['b.ts', ['c.ts', 'd.ts']],
    ['c.ts', ['a.ts']],
    ['d.ts', []],
    ['e.ts', ['e.ts']],
  ])
  assert.deepEqual(cycles(graph), [['a.ts', 'b.ts', 'c.ts'], ['e.ts']])
  assert.deepEqual(
    cycles(
      new Map([
        ['a.ts', ['b.ts']],
        ['b.ts', []],
      ]),
    ),
    [],
  )
  // The graph must see type-only re-exports and inline import() types, or cycles through them go unseen.
  const dir = mkdtempSync(join(tmpdir(), 'wharf-layers-'))
  try {
    const file = join(dir, 'x.ts')
    writeFileSync(
      file,
      "import type { A } from './a.js'\nexport type { B } from './b.js'\nlet c: import('./c.js').C\nexport * from './d.js'\n",
    )
    assert.deepEqual(importsOf(file), ['./a.js', './b.js', './c.js', './d.js'])
  } finally {
    rmSync(dir, { recursive: true })
  }
})

test('no hand-written src file is over 400 lines', () => {
  const long = files(src)
    .filter((file) => !generated(file))
    .map((file) => ({ file: relative(root, file), lines: lineCount(readFileSync(file, 'utf8')) }))
    .filter(({ lines }) => lines > 400)
    .map(({ file, lines }) => `${file} (${lines} lines)`)
  assert.deepEqual(long, [], `files over 400 lines:\n${long.join('\n')}`)
})

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
      // protocols/common is the adapter kit every protocol may use; it imports no protocol itself.
      const kit = otherProtocol === 'common'
      if (ownTop === 'protocols' && other === layers.indexOf('protocols') && ownProtocol !== otherProtocol && !kit) {
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
  // Guards against the checker silently matching nothing: the CLI's start command must import the server layer.
  const imports = importsOf(join(src, 'cli', 'start.ts'))
  assert.ok(
    imports.some((s) => s.includes('../server/')),
    'cli/start.ts should import from server/',
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
