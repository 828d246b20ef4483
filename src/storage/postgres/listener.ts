// A LISTEN session on a connection of its own: it stays connected, and when the connection drops (the server
// restarted, a standby was promoted, the backend was terminated) it connects again, walking the hosts like the
// pool, and LISTENs again. PostgreSQL does not keep notifications for a session that is gone, so each
// (re)connection is reported (`onConnected`), after LISTEN took effect: the caller then re-reads what it
// follows, which covers whatever was announced while nobody listened.
import type pg from 'pg'
import type { Database } from './connection.js'

export interface ListenerHooks {
  /** A notification on the channel, in commit order; `processId` is the notifying backend's pid. */
  onNotification(payload: string, processId: number): void
  /** LISTEN is in effect on a new connection (the first one too): notifications may have been missed. */
  onConnected(): void
  warn?: (message: string, details?: Record<string, unknown>) => void
}

const RETRY_MIN_MS = 100
const RETRY_MAX_MS = 5000

export class Listener {
  readonly #db: Database
  readonly #channel: string
  readonly #hooks: ListenerHooks
  #client: pg.Client | undefined
  #connecting: Promise<void> | undefined
  #retry: NodeJS.Timeout | undefined
  #retryMs = RETRY_MIN_MS
  #closed = false

  constructor(db: Database, channel: string, hooks: ListenerHooks) {
    if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`bad channel name '${channel}'`)
    this.#db = db
    this.#channel = channel
    this.#hooks = hooks
  }

  /** Connects and LISTENs; resolves once listening, or after the first failure (retries continue then). */
  start(): Promise<void> {
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }

  /** The backend pid of the listening session (tests terminate it to prove reconnection). */
  get processId(): number | undefined {
    return (this.#client as unknown as { processID?: number } | undefined)?.processID
  }

  async #connect(): Promise<void> {
    if (this.#closed) return
    let client: pg.Client | undefined
    try {
      client = await this.#db.dedicatedClient()
      const current = client
      current.on('notification', (message) => {
        if (message.channel === this.#channel && this.#client === current)
          this.#hooks.onNotification(message.payload ?? '', message.processId)
      })
      current.on('error', (error) => this.#lost(current, error))
      current.on('end', () => this.#lost(current, new Error('connection ended')))
      await current.query(`LISTEN ${this.#channel}`)
      if (this.#closed) {
        await current.end().catch(() => {})
        return
      }
      this.#client = current
      this.#retryMs = RETRY_MIN_MS
      this.#hooks.onConnected()
    } catch (error) {
      if (client !== undefined) await client.end().catch(() => {})
      this.#hooks.warn?.('catalog listener could not connect; retrying', { error: (error as Error).message })
      this.#schedule()
    }
  }

  #lost(client: pg.Client, error: Error): void {
    if (this.#client !== client) return
    this.#client = undefined
    client.end().catch(() => {})
    if (this.#closed) return
    this.#hooks.warn?.('catalog listener connection lost; reconnecting', { error: error.message })
    this.#schedule()
  }

  #schedule(): void {
    if (this.#closed || this.#retry !== undefined) return
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      void this.start()
    }, this.#retryMs)
    this.#retry.unref()
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS)
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#retry !== undefined) clearTimeout(this.#retry)
    await this.#connecting?.catch(() => {})
    const client = this.#client
    this.#client = undefined
    await client?.end().catch(() => {})
  }
}
