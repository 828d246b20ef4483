// The connection to PostgreSQL: the storage URL (libpq's multi-host form too), a pool on the writable primary,
// and the mapping of database failures to the storage errors the protocols already translate (IO_ERROR:
// Kafka KAFKA_STORAGE_ERROR, which clients retry). node-postgres connects to one host only, so Wharf walks
// the host list itself: it asks each host `SELECT pg_is_in_recovery()` and keeps a pool on the first that is
// writable; when that pool loses its server (or the server turns into a standby) the next query walks again.
import pg from 'pg'
import { WharfError } from '../../util/errors.js'
import { type SslSettings, serverRefusedTls, sslSettings, tlsFailure } from './tls.js'

export interface Endpoint {
  host: string
  port: number
}

export interface StorageUrl {
  endpoints: Endpoint[]
  user: string
  password: string
  database: string
  /** URL query parameters (target_session_attrs, application_name, connect_timeout...). */
  params: Map<string, string>
}

const URL_SHAPE = /^postgres(?:ql)?:\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/?]*)(?:\/([^?]*))?(?:\?(.*))?$/

/** True when a --storage value names PostgreSQL rather than the local engine. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(?:ql)?:\/\//.test(value)
}

export function parseStorageUrl(url: string): StorageUrl {
  const match = URL_SHAPE.exec(url)
  if (match === null)
    throw new WharfError('INVALID_CONFIG', 'storage URL must look like postgres://user:pass@host:port/db')
  const [, user = '', password = '', hosts = '', database = '', query = ''] = match
  const endpoints: Endpoint[] = []
  for (const part of hosts.split(',')) {
    if (part === '') continue
    const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(part)
    const plain = /^([^:]+)(?::(\d+))?$/.exec(part)
    const found = bracketed ?? plain
    if (found === null) throw new WharfError('INVALID_CONFIG', `storage URL: bad host '${part}'`)
    const port = found[2] === undefined ? 5432 : Number(found[2])
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new WharfError('INVALID_CONFIG', `storage URL: bad port in '${part}'`)
    endpoints.push({ host: decodeURIComponent(found[1]!), port })
  }
  if (endpoints.length === 0) endpoints.push({ host: 'localhost', port: 5432 })
  const params = new Map<string, string>()
  for (const pair of query.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq))
    params.set(key, eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1)))
  }
  return {
    endpoints,
    user: decodeURIComponent(user),
    password: decodeURIComponent(password),
    database: decodeURIComponent(database) || decodeURIComponent(user) || 'postgres',
    params,
  }
}

/** The URL without its password, for logs and errors. */
export function redactedUrl(url: StorageUrl): string {
  const hosts = url.endpoints.map((e) => `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`).join(',')
  return `postgres://${url.user}@${hosts}/${url.database}`
}

export interface DatabaseOptions {
  /** Connections in the pool (default 8). */
  poolSize?: number
  /** Give up connecting to one host after this long (ms, default 5000). */
  connectTimeoutMs?: number
  /** Fail a query that has no answer after this long (ms, default 30000): a hung server becomes an error. */
  queryTimeoutMs?: number
  /**
   * The server ends a session of this broker that sits idle inside a transaction this long (ms, default
   * 10000): a broker paused or cut off mid-transaction would otherwise keep its locks (rows, the cursor-write
   * lock other brokers' takeovers wait for) until TCP gives up, hours later. Wharf's transactions never wait
   * on anything but the database, so only a stalled process gets there.
   */
  idleInTransactionMs?: number
  warn?: (message: string, details?: Record<string, unknown>) => void
}

/** SQLSTATE classes that mean the server or the connection is gone (or not writable): walk the hosts again. */
function connectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true // socket errors, timeouts
  return code.startsWith('08') || code.startsWith('57') || code === '25006' || code.startsWith('53')
}

export class Database {
  readonly url: StorageUrl
  readonly #ssl: SslSettings
  readonly #options: Required<Omit<DatabaseOptions, 'warn'>> & Pick<DatabaseOptions, 'warn'>
  #pool: pg.Pool | undefined
  /** The host the pool is on and how it connected (a dedicated client goes to the same primary, the same way). */
  #endpoint: Endpoint | undefined
  #endpointSsl: SslSettings['ssl'] = false
  #locating: Promise<pg.Pool> | undefined
  /** The last failed walk, so a burst of queries during an outage fails fast instead of each walking. */
  #failedAt = 0
  #failure: Error | undefined
  #closed = false

  constructor(url: string, options: DatabaseOptions = {}) {
    this.url = parseStorageUrl(url)
    this.#ssl = sslSettings(this.url.params)
    this.#options = {
      poolSize: options.poolSize ?? 8,
      connectTimeoutMs: options.connectTimeoutMs ?? Number(this.url.params.get('connect_timeout') ?? 5) * 1000,
      queryTimeoutMs: options.queryTimeoutMs ?? 30_000,
      idleInTransactionMs: options.idleInTransactionMs ?? 10_000,
      warn: options.warn,
    }
  }

  #config(endpoint: Endpoint, ssl = this.#ssl.ssl): pg.ClientConfig {
    return {
      ssl,
      host: endpoint.host,
      port: endpoint.port,
      user: this.url.user,
      password: this.url.password,
      database: this.url.database,
      application_name: this.url.params.get('application_name') ?? 'wharf',
      connectionTimeoutMillis: this.#options.connectTimeoutMs,
      query_timeout: this.#options.queryTimeoutMs,
      idle_in_transaction_session_timeout: this.#options.idleInTransactionMs,
      keepAlive: true,
    }
  }

  /** The pool on the writable primary, walking the host list when there is none. */
  #primary(): Promise<pg.Pool> {
    if (this.#closed) return Promise.reject(new WharfError('LOG_CLOSED', 'storage is closed'))
    if (this.#pool !== undefined) return Promise.resolve(this.#pool)
    if (this.#failure !== undefined && Date.now() - this.#failedAt < 250) return Promise.reject(this.#failure)
    this.#locating ??= this.#locate().finally(() => {
      this.#locating = undefined
    })
    return this.#locating
  }

  async #locate(): Promise<pg.Pool> {
    const reasons: string[] = []
    for (const endpoint of this.url.endpoints) {
      let ssl = this.#ssl.ssl
      let config = this.#config(endpoint, ssl)
      let client = new pg.Client(config)
      client.on('error', () => {}) // a probe that dies is just a host that failed
      try {
        try {
          await client.connect()
        } catch (error) {
          // sslmode=prefer: a server without TLS gets plaintext, as libpq does.
          if (this.#ssl.mode !== 'prefer' || !serverRefusedTls(error)) throw error
          await client.end().catch(() => {})
          ssl = false
          config = this.#config(endpoint, ssl)
          client = new pg.Client(config)
          client.on('error', () => {})
          await client.connect()
        }
        const { rows } = await client.query<{ standby: boolean }>('SELECT pg_is_in_recovery() AS standby')
        if (rows[0]?.standby === true) {
          reasons.push(`${endpoint.host}:${endpoint.port} is a standby`)
          continue
        }
        const pool = new pg.Pool({ ...config, max: this.#options.poolSize })
        this.#endpointSsl = ssl
        // An idle connection that dies is dropped by the pool; the next query on a dead server walks again.
        pool.on('error', (error) => this.#lost(pool, error))
        this.#pool = pool
        this.#endpoint = endpoint
        this.#failure = undefined
        return pool
      } catch (error) {
        const reason = tlsFailure(error, this.#ssl, this.url.params) ?? (error as Error).message
        reasons.push(`${endpoint.host}:${endpoint.port}: ${reason}`)
      } finally {
        await client.end().catch(() => {})
      }
    }
    this.#failedAt = Date.now()
    this.#failure = new WharfError('IO_ERROR', `no writable PostgreSQL primary (${reasons.join('; ')})`)
    throw this.#failure
  }

  #lost(pool: pg.Pool, error: unknown): void {
    if (this.#pool !== pool) return
    this.#pool = undefined
    this.#options.warn?.('PostgreSQL connection lost; reconnecting on the next write', {
      error: (error as Error).message,
    })
    pool.end().catch(() => {})
  }

  /** Wraps a database failure as IO_ERROR (retriable for clients); a lost server drops the pool. */
  #fail(pool: pg.Pool | undefined, error: unknown): WharfError {
    if (error instanceof WharfError) return error
    if (pool !== undefined && connectionLost(error)) this.#lost(pool, error)
    return new WharfError('IO_ERROR', `PostgreSQL: ${(error as Error).message}`)
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>> {
    let pool: pg.Pool | undefined
    try {
      pool = await this.#primary()
      return await pool.query<R>(text, values)
    } catch (error) {
      throw this.#fail(pool, error)
    }
  }

  /** Runs work in one transaction (BEGIN ... COMMIT); any failure rolls back and is thrown as IO_ERROR. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let pool: pg.Pool | undefined
    let client: pg.PoolClient | undefined
    // The pool stops listening to a client it lends out. A session the server ends while no query of ours is
    // waiting (a process paused mid-transaction past idleInTransactionMs) is reported as an 'error' event; with
    // no listener that would be an uncaught exception. The next query on the client fails, and so does the work.
    let sessionError: Error | undefined
    const onError = (error: Error) => {
      sessionError = error
    }
    try {
      pool = await this.#primary()
      client = await pool.connect()
      client.on('error', onError)
      await client.query('BEGIN')
      const result = await work(client)
      await client.query('COMMIT')
      client.removeListener('error', onError)
      client.release()
      return result
    } catch (error) {
      if (client !== undefined) {
        if (sessionError === undefined) await client.query('ROLLBACK').catch(() => {})
        client.removeListener('error', onError)
        client.release(sessionError !== undefined || connectionLost(error))
      }
      throw this.#fail(pool, error)
    }
  }

  /**
   * A connection of its own on the writable primary, outside the pool (LISTEN needs one that stays open and
   * idle); no query timeout. The caller ends it, and connects again when it reports an error or its end.
   */
  async dedicatedClient(): Promise<pg.Client> {
    let pool: pg.Pool | undefined
    try {
      pool = await this.#primary()
      const client = new pg.Client({ ...this.#config(this.#endpoint!, this.#endpointSsl), query_timeout: undefined })
      client.on('error', () => {}) // the caller listens too; until then an error must not go unhandled
      try {
        await client.connect()
      } catch (error) {
        await client.end().catch(() => {})
        throw error
      }
      return client
    } catch (error) {
      throw this.#fail(pool, error)
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    await this.#locating?.catch(() => {})
    const pool = this.#pool
    this.#pool = undefined
    await pool?.end().catch(() => {})
  }

  /**
   * Gives the database up without waiting for it (a close past its bound): every query from now on fails at
   * once, and the pool ends in the background (a query in flight on a dead server ends at its query timeout).
   */
  abandon(): void {
    this.#closed = true
    const pool = this.#pool
    this.#pool = undefined
    pool?.end().catch(() => {})
  }
}
