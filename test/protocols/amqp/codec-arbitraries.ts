// fast-check arbitraries shared by the AMQP codec tests: values that survive encode → decode unchanged.
import fc from 'fast-check'
import type { ArgumentType, FieldTable, FieldValue, MethodInfo } from '../../../src/protocols/amqp/codec/index.ts'

/** Valid Unicode (no lone surrogates, which UTF-8 cannot carry); 60 code points ≤ 240 bytes < 255. */
export const shortString = fc.string({ unit: 'binary', maxLength: 60 })

const fieldKey = fc.string({ unit: 'binary', maxLength: 20 })

/** Field values whose decoded form equals the input (ints in int32 → I, -0 → d, dates whole seconds). */
export const fieldValue: fc.Arbitrary<FieldValue> = fc.letrec<{ value: FieldValue; table: FieldTable }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.boolean(),
    fc.integer(),
    // Integers past 2^53 that still fit int64 go out as l and come back as bigint, by design.
    fc.double().filter((d) => Number.isSafeInteger(d) || !Number.isInteger(d) || Math.abs(d) >= 2 ** 63),
    fc.maxSafeInteger(),
    fc.oneof(
      fc.bigInt({ min: -(2n ** 63n), max: -(2n ** 53n) - 1n }),
      fc.bigInt({ min: 2n ** 53n, max: 2n ** 63n - 1n }),
    ),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    fc.integer({ min: 0, max: 4_000_000_000 }).map((seconds) => new Date(seconds * 1000)),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    tie('table'),
  ),
  table: fc.dictionary(fieldKey, tie('value'), { maxKeys: 4, noNullPrototype: true }) as fc.Arbitrary<FieldTable>,
})).value

export const fieldTable: fc.Arbitrary<FieldTable> = fc.dictionary(fieldKey, fieldValue, {
  maxKeys: 6,
  noNullPrototype: true,
}) as fc.Arbitrary<FieldTable>

const byType: Record<ArgumentType, fc.Arbitrary<unknown>> = {
  octet: fc.integer({ min: 0, max: 0xff }),
  short: fc.integer({ min: 0, max: 0xffff }),
  long: fc.integer({ min: 0, max: 0xffff_ffff }),
  longlong: fc.maxSafeNat(),
  timestamp: fc.maxSafeNat(),
  shortstr: shortString,
  longstr: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  bit: fc.boolean(),
  table: fieldTable,
}

/** Arguments for a method with every field present, built from the generated field metadata. */
export function methodArgs(info: Pick<MethodInfo, 'fields'>): fc.Arbitrary<Record<string, unknown>> {
  const record: Record<string, fc.Arbitrary<unknown>> = {}
  for (const field of info.fields) record[field.name] = byType[field.type]
  return fc.record(record, { noNullPrototype: true })
}
