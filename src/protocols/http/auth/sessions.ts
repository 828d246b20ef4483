// Dashboard sessions: a random id in an HttpOnly SameSite=Strict cookie, the rest on the server (who, a CSRF
// token, when it was made and last used). Sessions live in memory only: a restart logs everyone out, which
// is the safe failure. The map is bounded; past the bound the oldest session goes.
import { randomBytes, timingSafeEqual } from 'node:crypto'

export const SESSION_COOKIE = 'wharf_session'
/** A session unused this long is gone. */
export const SESSION_IDLE_MS = 30 * 60_000
/** A session ends this long after login however busy it is. */
export const SESSION_LIFETIME_MS = 8 * 3600_000
export const SESSIONS_MAX = 1000

export interface Session {
  readonly id: string
  readonly user: string
  /** Sent back by the dashboard in the X-CSRF-Token header on every state-changing request. */
  readonly csrfToken: string
  readonly createdAt: number
  lastSeenAt: number
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>()
  readonly #now: () => number
  readonly #max: number

  constructor(now: () => number = Date.now, max = SESSIONS_MAX) {
    this.#now = now
    this.#max = max
  }

  get size(): number {
    return this.#sessions.size
  }

  create(user: string): Session {
    const now = this.#now()
    for (const [id, session] of this.#sessions) if (this.#expired(session, now)) this.#sessions.delete(id)
    while (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.keys().next().value
      if (oldest === undefined) break
      this.#sessions.delete(oldest)
    }
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      user,
      csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
    }
    this.#sessions.set(session.id, session)
    return session
  }

  /** The live session with this id (its idle clock restarts), else undefined. */
  get(id: string): Session | undefined {
    const session = this.#sessions.get(id)
    if (session === undefined) return undefined
    const now = this.#now()
    if (this.#expired(session, now)) {
      this.#sessions.delete(id)
      return undefined
    }
    session.lastSeenAt = now
    return session
  }

  delete(id: string): void {
    this.#sessions.delete(id)
  }

  /** Ends every session of a user (deleted, or given a new password). */
  deleteUser(user: string): void {
    for (const [id, session] of this.#sessions) if (session.user === user) this.#sessions.delete(id)
  }

  #expired(session: Session, now: number): boolean {
    return now - session.lastSeenAt > SESSION_IDLE_MS || now - session.createdAt > SESSION_LIFETIME_MS
  }
}

/** Constant-time check of a presented CSRF token. */
export function csrfMatches(session: Session, presented: unknown): boolean {
  if (typeof presented !== 'string') return false
  const a = Buffer.from(session.csrfToken)
  const b = Buffer.from(presented)
  return a.length === b.length && timingSafeEqual(a, b)
}

/** The session id from a Cookie header, if one is there. */
export function sessionIdFromCookie(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  for (const part of header.split(';')) {
    const at = part.indexOf('=')
    if (at > 0 && part.slice(0, at).trim() === SESSION_COOKIE) {
      const value = part.slice(at + 1).trim()
      return /^[A-Za-z0-9_-]{43}$/.test(value) ? value : undefined
    }
  }
  return undefined
}

/** Set-Cookie for a session; `secure` on HTTPS so the browser never sends it in the clear. */
export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_LIFETIME_MS / 1000}${secure ? '; Secure' : ''}`
}

export function clearedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`
}
