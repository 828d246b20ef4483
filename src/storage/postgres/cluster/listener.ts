// LISTEN wharf_cluster on a dedicated connection (a pooled one would be handed to other queries). The
// connection goes to the current primary; when it errors or ends (failover, restart) it is opened again after
// a pause and LISTEN is issued again. Notifications sent while it was down are lost, so every (re)connect is
// reported too (onReconnect), and the caller re-reads everything; it also polls, as NOTIFY is best-effort.
import type pg from 'pg'
import type { Database } from '../connection.js'

export const CHANNEL = 'wharf_cluster'
const RETRY_MS = 1000

export class ClusterListener {
  #client: pg.Client | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false

  constructor(
    private readonly db: Database,
    private readonly onNotify: (payload: string) => void,
    private readonly onReconnect: () => void,
  ) {}

  /** Connects in the background; failures retry until close(). */
  start(): void {
    void this.#connect()
  }

  async #connect(): Promise<void> {
    if (this.#closed) return
    let client: pg.Client | undefined
    try {
      client = await this.db.dedicatedClient()
      if (this.#closed) {
        await client.end().catch(() => {})
        return
      }
      const lost = () => this.#lost(client!)
      client.on('error', lost)
      client.on('end', lost)
      client.on('notification', (message) => {
        if (message.channel === CHANNEL) this.onNotify(message.payload ?? '')
      })
      await client.query(`LISTEN ${CHANNEL}`)
      this.#client = client
      this.onReconnect()
    } catch {
      if (client !== undefined) await client.end().catch(() => {})
      this.#retry()
    }
  }

  #lost(client: pg.Client): void {
    if (this.#client !== client) return
    this.#client = undefined
    client.end().catch(() => {})
    this.#retry()
  }

  #retry(): void {
    if (this.#closed || this.#timer !== undefined) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      void this.#connect()
    }, RETRY_MS)
    this.#timer.unref()
  }

  get connected(): boolean {
    return this.#client !== undefined
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    const client = this.#client
    this.#client = undefined
    await client?.end().catch(() => {})
  }
}
