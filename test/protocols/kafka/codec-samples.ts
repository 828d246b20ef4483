// Sample values for every Kafka message and version, built from the same spec model the generator uses:
// fields present in the version get varied non-default values, absent ones the decoder's default.
import { join } from 'node:path'
import { type FieldSpec, inRange, loadSpecs, type MessageSpec } from '../../../tools/codegen/kafka-spec.ts'

export const specDir = join(import.meta.dirname, '../../../../shared/spec/kafka')
export const specs: MessageSpec[] = loadSpecs(specDir)

function defaultValue(msg: MessageSpec, f: FieldSpec): unknown {
  const d = f.default
  if (d === 'null' || (f.type === 'records' && !f.array)) return null
  if (f.array) return []
  if (f.struct) return defaultStruct(msg, f.type)
  switch (f.type) {
    case 'bool':
      return d === true || d === 'true'
    case 'string':
      return d === undefined ? '' : String(d)
    case 'bytes':
      return Buffer.alloc(0)
    case 'uuid':
      return Buffer.alloc(16)
    default:
      if (d === undefined || d === '') return 0
      return typeof d === 'number' ? d : /^-?0x/i.test(d as string) ? Number.parseInt(d as string, 16) : Number(d)
  }
}

function defaultStruct(msg: MessageSpec, name: string): Record<string, unknown> {
  const s = msg.structs.find((x) => x.name === name)!
  return Object.fromEntries(s.fields.map((f) => [f.prop, defaultValue(msg, f)]))
}

function present(msg: MessageSpec, f: FieldSpec, v: number): boolean {
  if (f.tag !== null) return inRange(f.tagged, v) && inRange(msg.flexible, v)
  return inRange(f.versions, v)
}

function scalar(f: FieldSpec, k: number): unknown {
  switch (f.type) {
    case 'int8':
      return (k % 120) - 7
    case 'int16':
      return (k * 37) % 30000
    case 'uint16':
      return 65000 - k
    case 'int32':
      return k * 100003 - 5
    case 'int64':
      return k * 2 ** 40 + 12345
    case 'float64':
      return k + 0.25
    case 'bool':
      return k % 2 === 0
    case 'string':
      return `s${k}-é`
    case 'bytes':
      return Buffer.from([k & 255, 1, 2, 3])
    case 'uuid':
      return Buffer.alloc(16, (k % 250) + 1)
    case 'records':
      // Alternate a small (copied) and a large (referenced) blob.
      return Buffer.alloc(k % 2 === 0 ? 1500 : 20, k & 255)
    default:
      throw new Error(`no sample for ${f.type}`)
  }
}

/** A sample of struct `name` for version v; `seed` varies values and which nullable fields are null. */
export function sampleStruct(msg: MessageSpec, name: string, v: number, seed: { k: number }): Record<string, unknown> {
  const s = msg.structs.find((x) => x.name === name)!
  const out: Record<string, unknown> = {}
  for (const f of s.fields) {
    if (!present(msg, f, v)) {
      out[f.prop] = defaultValue(msg, f)
      continue
    }
    const k = ++seed.k
    if (inRange(f.nullable, v) && k % 4 === 0) {
      out[f.prop] = null
      continue
    }
    const one = () => (f.struct ? sampleStruct(msg, f.type, v, seed) : scalar(f, ++seed.k))
    out[f.prop] = f.array ? [one(), one()] : one()
  }
  return out
}

export function sample(msg: MessageSpec, v: number, seed = 1): Record<string, unknown> {
  return sampleStruct(msg, msg.name, v, { k: seed })
}

export function versions(msg: MessageSpec): number[] {
  const out: number[] = []
  for (let v = msg.valid.lo; v <= msg.valid.hi; v++) out.push(v)
  return out
}
