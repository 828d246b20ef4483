// Mutual authentication of two brokers of one cluster: each proves it knows the cluster's secret (kept in the
// shared storage, so only processes that can reach the database know it) by an HMAC over both sides' fresh
// nonces and its own node id; neither proof can be replayed on another connection.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

export interface Hello {
  t: 'hello'
  node: number
  nonce: string
}
export interface Challenge {
  t: 'challenge'
  node: number
  nonce: string
  proof: string
}
export interface Auth {
  t: 'auth'
  proof: string
}

export const newNonce = (): string => randomBytes(16).toString('hex')

export function proof(
  secret: Buffer,
  role: 'server' | 'client',
  clientNonce: string,
  serverNonce: string,
  node: number,
) {
  return createHmac('sha256', secret).update(`${role}|${clientNonce}|${serverNonce}|${node}`).digest('hex')
}

export function sameProof(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false
  return timingSafeEqual(Buffer.from(expected), Buffer.from(given))
}

export function isHello(frame: unknown): frame is Hello {
  const f = frame as Partial<Hello> | null
  return f?.t === 'hello' && Number.isSafeInteger(f.node) && typeof f.nonce === 'string' && f.nonce.length === 32
}

export function isChallenge(frame: unknown): frame is Challenge {
  const f = frame as Partial<Challenge> | null
  return (
    f?.t === 'challenge' && Number.isSafeInteger(f.node) && typeof f.nonce === 'string' && typeof f.proof === 'string'
  )
}
