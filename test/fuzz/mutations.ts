// Byte-level damage to a valid input, shared by the fuzzers: truncation, one byte replaced, bytes inserted,
// or random bytes of about the same size; a fuzzer adds the structure-aware mutations of its own format.
import fc from 'fast-check'

export function damagedBytes(bytes: Buffer, ...extra: Array<fc.Arbitrary<Buffer>>): fc.Arbitrary<Buffer> {
  return fc.oneof(
    fc.nat(bytes.length).map((n) => bytes.subarray(0, n)),
    fc.tuple(fc.nat(Math.max(0, bytes.length - 1)), fc.nat(255)).map(([i, b]) => {
      const copy = Buffer.from(bytes)
      if (copy.length > 0) copy[i] = b
      return copy
    }),
    fc
      .tuple(fc.nat(bytes.length), fc.uint8Array({ minLength: 1, maxLength: 40 }))
      .map(([i, inserted]) => Buffer.concat([bytes.subarray(0, i), Buffer.from(inserted), bytes.subarray(i)])),
    fc.uint8Array({ maxLength: Math.max(200, 2 * bytes.length) }).map((b) => Buffer.from(b)),
    ...extra,
  )
}
