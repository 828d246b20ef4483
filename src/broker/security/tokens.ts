// API tokens: bearer secrets for the HTTP admin API, the schema registry and scripts, each owned by a user
// and acting with that user's current tags and ACLs. Only a SHA-256 of a token is stored (kind 'api-token'):
// the token is random enough that a slow hash adds nothing, and it is shown once, when created.
// A token reads `wharf_<id>_<secret>`: the id finds the record without a scan and is safe to list.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { MetadataStore } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'

const KIND = 'api-token'
const TOKEN = /^wharf_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/
/** Per user: a script that mints tokens in a loop must not grow the catalog without bound. */
export const TOKENS_PER_USER_MAX = 100

interface TokenRecord {
  id: string
  name: string
  user: string
  createdAt: number
  /** SHA-256 of the whole token, hex. */
  sha256: string
}

/** What may be shown of a token: never its secret or hash. */
export interface TokenView {
  id: string
  name: string
  user: string
  createdAt: number
}

function sha256(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}

function view({ id, name, user, createdAt }: TokenRecord): TokenView {
  return { id, name, user, createdAt }
}

export class TokenStore {
  readonly #metadata: MetadataStore
  /** Resolves once every broker sharing the catalog has applied this one's changes (a no-op on one broker). */
  readonly #settle: () => Promise<void>
  readonly #now: () => number

  constructor(metadata: MetadataStore, now: () => number = Date.now, settle: () => Promise<void> = async () => {}) {
    this.#metadata = metadata
    this.#now = now
    this.#settle = settle
  }

  /** Makes a token for `user`; the returned `token` is the only time the secret exists outside the client. */
  async create(user: string, name: string): Promise<TokenView & { token: string }> {
    if (name === '' || name.length > 200 || [...name].some((c) => c < ' '))
      throw new WharfError('INVALID_ARGUMENT', 'a token name is 1-200 printable characters')
    if (this.list(user).length >= TOKENS_PER_USER_MAX)
      throw new WharfError('LIMIT_EXCEEDED', `a user holds at most ${TOKENS_PER_USER_MAX} tokens`)
    const id = randomBytes(8).toString('hex')
    const token = `wharf_${id}_${randomBytes(32).toString('base64url')}`
    const record: TokenRecord = { id, name, user, createdAt: this.#now(), sha256: sha256(token).toString('hex') }
    await this.#metadata.put(KIND, id, record)
    await this.#settle()
    return { ...view(record), token }
  }

  /** Tokens of one user, or of everyone, oldest first. */
  list(user?: string): TokenView[] {
    return this.#metadata
      .list<TokenRecord>(KIND)
      .map(([, record]) => record)
      .filter((record) => user === undefined || record.user === user)
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
      .map(view)
  }

  get(id: string): TokenView | undefined {
    const record = this.#metadata.get<TokenRecord>(KIND, id)
    return record && view(record)
  }

  async delete(id: string): Promise<boolean> {
    if (this.#metadata.get(KIND, id) === undefined) return false
    await this.#metadata.delete(KIND, id)
    await this.#settle()
    return true
  }

  /** Deletes every token of a user (when the user is deleted); returns how many. */
  async deleteAll(user: string): Promise<number> {
    const tokens = this.list(user)
    for (const token of tokens) await this.#metadata.delete(KIND, token.id)
    if (tokens.length > 0) await this.#settle()
    return tokens.length
  }

  /** The owner of a presented token, or undefined; the hash comparison is constant-time. */
  verify(token: string): TokenView | undefined {
    const match = TOKEN.exec(token)
    if (match === null) return undefined
    const record = this.#metadata.get<TokenRecord>(KIND, match[1] as string)
    if (record === undefined) return undefined
    const expected = Buffer.from(record.sha256, 'hex')
    const presented = sha256(token)
    return expected.length === presented.length && timingSafeEqual(expected, presented) ? view(record) : undefined
  }
}
