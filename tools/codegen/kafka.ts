// Kafka codec generator: reads <repo>/../shared/spec/kafka/*.json and writes src/protocols/kafka/codec/generated/
// for the APIs listed in kafka-served.ts.
// Usage: node --import tsx tools/codegen/kafka.ts [--out <dir>] [--spec <dir>]
// Output is deterministic (sorted inputs, fixed formatting) and committed; a test regenerates and diffs it.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { emitMessage, fileName, header, rangeText } from './kafka-emit.ts'
import { loadSpecs, type MessageSpec } from './kafka-spec.ts'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const defaultSpecDir = resolve(repo, '../shared/spec/kafka')
export const defaultOutDir = join(repo, 'src/protocols/kafka/codec/generated')

function emitApis(messages: MessageSpec[]): string {
  const requests = messages.filter((m) => m.kind === 'request').sort((a, b) => a.apiKey! - b.apiKey!)
  const responses = new Map(messages.filter((m) => m.kind === 'response').map((m) => [m.apiKey, m]))
  const lines = [header, "import { type KafkaApi, defineApi } from '../api.js'"]
  const entries: string[] = []
  const keys: string[] = []
  for (const req of requests) {
    const res = responses.get(req.apiKey)
    if (res === undefined) throw new Error(`${req.name} has no response`)
    const name = req.name.replace(/Request$/, '')
    const base = (m: MessageSpec) => `./${fileName(m.name).replace(/\.ts$/, '.js')}`
    lines.push(`import { decode${req.name}, encode${req.name} } from '${base(req)}'`)
    lines.push(`import { decode${res.name}, encode${res.name} } from '${base(res)}'`)
    const lo = Math.max(req.valid.lo, res.valid.lo)
    const hi = Math.min(req.valid.hi, res.valid.hi)
    if (req.flexible.lo !== res.flexible.lo) throw new Error(`${name}: request/response flexible versions differ`)
    const deprecated = req.deprecated.lo > req.deprecated.hi ? 'null' : `[${req.deprecated.lo}, ${req.deprecated.hi}]`
    keys.push(`  ${name}: ${req.apiKey},`)
    entries.push(
      [
        `  // ${name}: versions ${lo}-${hi}, flexible ${rangeText(req.flexible)}`,
        `  [${req.apiKey}, defineApi({`,
        `    apiKey: ${req.apiKey},`,
        `    name: '${name}',`,
        `    minVersion: ${lo},`,
        `    maxVersion: ${hi},`,
        `    flexibleMinVersion: ${req.flexible.lo > req.flexible.hi ? 'null' : req.flexible.lo},`,
        `    latestVersionUnstable: ${req.latestVersionUnstable},`,
        `    deprecatedVersions: ${deprecated},`,
        `    decodeRequest: decode${req.name},`,
        `    encodeRequest: encode${req.name},`,
        `    decodeResponse: decode${res.name},`,
        `    encodeResponse: encode${res.name},`,
        '  })],',
      ].join('\n'),
    )
  }
  lines.push(
    '',
    '/** API keys by name (the APIs Wharf serves). */',
    'export const ApiKey = {',
    ...keys,
    '} as const',
    '',
  )
  lines.push('/** Every API Wharf serves, by API key. */')
  lines.push('export const kafkaApis: ReadonlyMap<number, KafkaApi> = new Map<number, KafkaApi>([')
  lines.push(...entries, '])', '')
  return lines.join('\n')
}

/** All generated files, by file name. */
export function generateKafkaCodec(specDir = defaultSpecDir): Map<string, string> {
  const messages = loadSpecs(specDir)
  const files = new Map<string, string>()
  for (const m of messages) files.set(fileName(m.name), emitMessage(m))
  files.set('apis.ts', emitApis(messages))
  const exports = [...files.keys()].sort().map((f) => `export * from './${f.replace(/\.ts$/, '.js')}'`)
  files.set('index.ts', `${header}${exports.join('\n')}\n`)
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

function main(argv: string[]): void {
  const arg = (flag: string) => {
    const i = argv.indexOf(flag)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const out = resolve(arg('--out') ?? defaultOutDir)
  const files = generateKafkaCodec(resolve(arg('--spec') ?? defaultSpecDir))
  mkdirSync(out, { recursive: true })
  // Remove files of messages that no longer exist, so the directory mirrors the specs exactly.
  for (const name of readdirSync(out)) if (name.endsWith('.ts') && !files.has(name)) rmSync(join(out, name))
  for (const [name, text] of files) writeFileSync(join(out, name), text)
  process.stdout.write(`kafka codegen: ${files.size} files -> ${out}\n`)
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main(process.argv.slice(2))
