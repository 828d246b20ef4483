// Loads Apache Kafka's message JSON specs (clients/src/main/resources/common/message/*.json) into a small model
// that the emitter (kafka-emit.ts) and the codec tests share. Only what the wire format needs is kept.
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { servedApis } from './kafka-served.ts'

/** Inclusive version range; `hi` is versionMax for "N+", and lo > hi means "none". */
export interface VersionRange {
  lo: number
  hi: number
}

export const versionMax = 32767
export const noVersions: VersionRange = { lo: 1, hi: 0 }

export type Primitive =
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint16'
  | 'float64'
  | 'bool'
  | 'string'
  | 'bytes'
  | 'uuid'
  | 'records'

export const primitives: ReadonlySet<string> = new Set<Primitive>([
  'int8',
  'int16',
  'int32',
  'int64',
  'uint16',
  'float64',
  'bool',
  'string',
  'bytes',
  'uuid',
  'records',
])

export interface FieldSpec {
  name: string
  /** JS property name: the spec name with its first letter lowered (as Kafka's Java generator does). */
  prop: string
  /** Element type for arrays, the type itself otherwise: a primitive or a struct name. */
  type: string
  array: boolean
  struct: boolean
  versions: VersionRange
  nullable: VersionRange
  tag: number | null
  tagged: VersionRange
  /** Field-level flexibleVersions override (RequestHeader.ClientId is "none"), else null. */
  flexible: VersionRange | null
  /** Raw spec default (string or literal), undefined when absent. */
  default: string | number | boolean | undefined
  ignorable: boolean
  /** The spec's `about` text, kept as the field's doc comment. */
  about: string | undefined
}

export interface StructSpec {
  name: string
  /** The `about` of the field that introduces the struct (the message's own for the root). */
  about: string | undefined
  fields: FieldSpec[]
}

export interface MessageSpec {
  name: string
  kind: 'request' | 'response' | 'header'
  apiKey: number | null
  valid: VersionRange
  flexible: VersionRange
  deprecated: VersionRange
  latestVersionUnstable: boolean
  listeners: string[]
  /** Every struct, the root (named like the message) first, then in order of first appearance. */
  structs: StructSpec[]
}

/** Drops `//` comments that are outside string literals. */
export function stripComments(text: string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (inString) {
      out += c
      if (c === '\\') out += text[++i] ?? ''
      else if (c === '"') inString = false
    } else if (c === '"') {
      inString = true
      out += c
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++
      out += '\n'
    } else out += c
  }
  return out
}

export function parseVersions(text: string | undefined): VersionRange {
  if (text === undefined || text === 'none') return noVersions
  const plus = /^(\d+)\+$/.exec(text)
  if (plus) return { lo: Number(plus[1]), hi: versionMax }
  const range = /^(\d+)-(\d+)$/.exec(text)
  if (range) return { lo: Number(range[1]), hi: Number(range[2]) }
  if (/^\d+$/.test(text)) return { lo: Number(text), hi: Number(text) }
  throw new Error(`bad version range ${text}`)
}

export function inRange(range: VersionRange, version: number): boolean {
  return version >= range.lo && version <= range.hi
}

interface RawField {
  name: string
  type: string
  versions?: string
  nullableVersions?: string
  taggedVersions?: string
  tag?: number
  flexibleVersions?: string
  default?: string | number | boolean
  ignorable?: boolean
  about?: string
  fields?: RawField[]
}

interface RawMessage {
  name: string
  type: 'request' | 'response' | 'header'
  apiKey?: number
  validVersions: string
  flexibleVersions: string
  deprecatedVersions?: string
  latestVersionUnstable?: boolean
  listeners?: string[]
  about?: string
  fields: RawField[]
  commonStructs?: { name: string; fields: RawField[] }[]
}

function buildMessage(raw: RawMessage): MessageSpec {
  const structs: StructSpec[] = []
  const seen = new Set<string>()
  const common = new Map((raw.commonStructs ?? []).map((s) => [s.name, s.fields]))
  const addStruct = (name: string, fields: RawField[], about: string | undefined): void => {
    if (seen.has(name)) return
    seen.add(name)
    const struct: StructSpec = { name, about, fields: [] }
    structs.push(struct)
    for (const f of fields) struct.fields.push(buildField(f))
  }
  const buildField = (f: RawField): FieldSpec => {
    const array = f.type.startsWith('[]')
    const type = array ? f.type.slice(2) : f.type
    const struct = !primitives.has(type)
    if (struct) {
      const fields = f.fields ?? common.get(type)
      if (fields === undefined) throw new Error(`${raw.name}.${f.name}: unknown struct ${type}`)
      addStruct(type, fields, f.about)
    }
    const versions = parseVersions(f.versions)
    const tagged = parseVersions(f.taggedVersions)
    if (f.tag !== undefined && (tagged.lo !== versions.lo || tagged.hi !== versions.hi)) {
      throw new Error(`${raw.name}.${f.name}: tagged versions differ from versions (unsupported)`)
    }
    return {
      name: f.name,
      prop: f.name[0]!.toLowerCase() + f.name.slice(1),
      type,
      array,
      struct,
      versions,
      nullable: parseVersions(f.nullableVersions),
      tag: f.tag ?? null,
      tagged: f.tag === undefined ? noVersions : tagged,
      flexible: f.flexibleVersions === undefined ? null : parseVersions(f.flexibleVersions),
      default: f.default,
      ignorable: f.ignorable === true,
      about: f.about,
    }
  }
  addStruct(raw.name, raw.fields, raw.about)
  return {
    name: raw.name,
    kind: raw.type,
    apiKey: raw.apiKey ?? null,
    valid: parseVersions(raw.validVersions),
    flexible: parseVersions(raw.flexibleVersions),
    deprecated: parseVersions(raw.deprecatedVersions),
    latestVersionUnstable: raw.latestVersionUnstable === true,
    listeners: raw.listeners ?? [],
    structs,
  }
}

/** Request and response of each API in `served` (names without Request/Response), both headers; by name. */
export function loadSpecs(dir: string, served: readonly string[] = servedApis): MessageSpec[] {
  const messages: MessageSpec[] = []
  const names = readdirSync(dir)
    .filter((n) => /^[A-Z]\w*(Request|Response|Header)\.json$/.test(n))
    .sort()
  const raws = names.map((n) => JSON.parse(stripComments(readFileSync(join(dir, n), 'utf8'))) as RawMessage)
  const wanted = new Set(served.map((name) => `${name}Request`))
  const servedKeys = new Set(raws.filter((r) => r.type === 'request' && wanted.has(r.name)).map((r) => r.apiKey))
  if (servedKeys.size !== wanted.size) {
    const found = new Set(raws.map((r) => r.name))
    throw new Error(`served APIs missing from ${dir}: ${[...wanted].filter((n) => !found.has(n)).join(', ')}`)
  }
  for (const raw of raws) {
    if (raw.type === 'header' || servedKeys.has(raw.apiKey)) messages.push(buildMessage(raw))
  }
  return messages
}
