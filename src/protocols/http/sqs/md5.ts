// The digests SQS returns with every message, computed exactly as AWS does, because SDKs verify them
// (JS v3 checks MD5OfBody, Java v2 also MD5OfMessageAttributes) and fail the call on a mismatch.
// Attribute digest (AWS docs "Calculating the MD5 message digest for message attributes"): names sorted;
// per attribute u32be length + name, u32be length + DataType, one transport byte (1 = String/Number,
// 2 = Binary), u32be length + value. Sans-I/O: bytes in, hex out.
import { hash } from 'node:crypto'

export interface SqsAttributeValue {
  DataType: string
  StringValue?: string | undefined
  BinaryValue?: Buffer | undefined
}

export function md5Hex(data: string | Buffer): string {
  // One-shot crypto.hash: no Hash object per message (this runs for every message sent and received).
  return hash('md5', data, 'hex')
}

function lengthPrefixed(parts: Buffer[], value: Buffer): void {
  const length = Buffer.allocUnsafe(4)
  length.writeUInt32BE(value.length, 0)
  parts.push(length, value)
}

/** MD5OfMessageAttributes (also MD5OfMessageSystemAttributes); undefined for no attributes, as AWS omits it. */
export function md5OfAttributes(attributes: Record<string, SqsAttributeValue>): string | undefined {
  const names = Object.keys(attributes).sort()
  if (names.length === 0) return undefined
  const parts: Buffer[] = []
  for (const name of names) {
    const attribute = attributes[name]!
    lengthPrefixed(parts, Buffer.from(name, 'utf8'))
    lengthPrefixed(parts, Buffer.from(attribute.DataType, 'utf8'))
    const binary = attribute.DataType.startsWith('Binary')
    parts.push(Buffer.from([binary ? 2 : 1]))
    lengthPrefixed(
      parts,
      binary ? (attribute.BinaryValue ?? Buffer.alloc(0)) : Buffer.from(attribute.StringValue ?? '', 'utf8'),
    )
  }
  return md5Hex(Buffer.concat(parts))
}
