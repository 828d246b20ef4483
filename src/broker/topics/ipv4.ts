// Dotted-quad IPv4 parsing for the SNS `cidr` filter operator, by char code (no regex, no node:net).

/** The address as an unsigned 32-bit number, or null unless text is exactly four decimal octets. */
export function parseIpv4(text: string): number | null {
  let address = 0
  let octets = 0
  let i = 0
  while (octets < 4) {
    let value = 0
    let digits = 0
    while (i < text.length) {
      const code = text.charCodeAt(i)
      if (code < 48 || code > 57) break
      value = value * 10 + (code - 48)
      digits++
      i++
    }
    if (digits === 0 || digits > 3 || value > 255) return null
    address = address * 256 + value
    octets++
    if (octets < 4) {
      if (text.charCodeAt(i) !== 46) return null
      i++
    }
  }
  return i === text.length ? address : null
}

/** Network and mask of an IPv4 "a.b.c.d/n" block (host bits are masked off), or null. */
export function parseIpv4Cidr(text: string): { network: number; mask: number } | null {
  const slash = text.indexOf('/')
  if (slash === -1) return null
  const address = parseIpv4(text.slice(0, slash))
  const bitsText = text.slice(slash + 1)
  if (address === null || bitsText.length === 0 || bitsText.length > 2) return null
  let bits = 0
  for (let i = 0; i < bitsText.length; i++) {
    const code = bitsText.charCodeAt(i)
    if (code < 48 || code > 57) return null
    bits = bits * 10 + (code - 48)
  }
  if (bits > 32) return null
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
  return { network: (address & mask) >>> 0, mask }
}
