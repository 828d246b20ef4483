// Password hashes: scrypt from node:crypto, run on the thread pool so a login never blocks the event loop.
// Format: scrypt$N$r$p$salt$hash (base64), so the cost can be raised later without breaking stored users.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

const COST = { N: 16384, r: 8, p: 1 } as const
const KEY_LENGTH = 32

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, { N, r, p, maxmem: 256 * N * r }, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  )
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const key = await scryptAsync(password, salt, COST.N, COST.r, COST.p)
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${key.toString('base64')}`
}

/** Constant-time comparison; a malformed stored hash never matches. */
export async function passwordMatches(stored: string, password: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0) || N > 1 << 20) return false
  const expected = Buffer.from(parts[5] as string, 'base64')
  const key = await scryptAsync(password, Buffer.from(parts[4] as string, 'base64'), N, r, p)
  return key.length === expected.length && timingSafeEqual(key, expected)
}
