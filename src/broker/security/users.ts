// The user store: one record per user in the metadata store (kind 'user'). Secrets are kept only in forms
// that verify: a scrypt hash of the password and SCRAM credentials. AWS access-key secrets are the
// exception, as on AWS: SigV4 is an HMAC keyed by the secret, so the server must hold it.
import type { MetadataStore } from '../../storage/api.js'
import { WharfError } from '../../util/errors.js'
import { hashPassword, passwordMatches } from './passwords.js'
import {
  deriveScramCredential,
  type ScramCredential,
  type ScramMechanism,
  scramCredentialMatches,
  scramMechanisms,
} from './scram.js'

const KIND = 'user'

/**
 * administrator: everything, ACLs do not apply (Kafka super user), and the whole admin API.
 * management: the admin API and dashboard, reading and changing topology and messages, but not users/ACLs.
 * monitoring: the admin API and dashboard read-only.
 * No tag: messaging protocols only, as ACLs allow.
 */
export const userTags = ['administrator', 'management', 'monitoring'] as const
export type UserTag = (typeof userTags)[number]

export interface AccessKey {
  id: string
  secret: string
}

export interface UserRecord {
  name: string
  /** scrypt hash (passwords.ts); absent for users that only have SCRAM credentials or access keys. */
  passwordHash?: string
  scram: Partial<Record<ScramMechanism, ScramCredential>>
  tags: UserTag[]
  accessKeys: AccessKey[]
  /** Logins only from a loopback address (RabbitMQ's loopback_users; the default guest user). */
  loopbackOnly?: boolean
}

/** What may be shown of a user: no secret, no hash. */
export interface UserView {
  name: string
  tags: UserTag[]
  hasPassword: boolean
  scram: Array<{ mechanism: ScramMechanism; iterations: number }>
  accessKeyIds: string[]
  loopbackOnly: boolean
}

export interface UserChanges {
  password?: string
  tags?: readonly string[]
  accessKeys?: readonly AccessKey[]
  loopbackOnly?: boolean
}

const NAME = /^[^\s:,*][^\s:,]{0,254}$/u

export function validUserName(name: string): boolean {
  return NAME.test(name) && name !== 'ANONYMOUS'
}

export function parseTags(tags: readonly string[]): UserTag[] {
  const out: UserTag[] = []
  for (const tag of tags) {
    if (!(userTags as readonly string[]).includes(tag))
      throw new WharfError('INVALID_ARGUMENT', `unknown tag '${tag}' (valid: ${userTags.join(', ')})`)
    if (!out.includes(tag as UserTag)) out.push(tag as UserTag)
  }
  return out
}

export class UserStore {
  readonly #metadata: MetadataStore
  /** Resolves once every broker sharing the catalog has applied this one's changes (a no-op on one broker). */
  readonly #settle: () => Promise<void>
  /** Bumped on every change, so cached decisions that depend on a user's tags are dropped. */
  #generation = 0

  constructor(metadata: MetadataStore, settle: () => Promise<void> = async () => {}) {
    this.#metadata = metadata
    this.#settle = settle
  }

  get generation(): number {
    return this.#generation
  }

  /** Another broker sharing the storage changed a user (the catalog has it already): cached decisions go. */
  changed(): void {
    this.#generation++
  }

  get size(): number {
    return this.#metadata.list(KIND).length
  }

  get(name: string): UserRecord | undefined {
    return this.#metadata.get<UserRecord>(KIND, name)
  }

  list(): UserView[] {
    return this.#metadata
      .list<UserRecord>(KIND)
      .map(([, user]) => view(user))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  view(name: string): UserView | undefined {
    const user = this.get(name)
    return user && view(user)
  }

  /** Creates a user or changes the given fields of an existing one; a password sets both SCRAM credentials too. */
  async put(name: string, changes: UserChanges): Promise<UserView> {
    if (!validUserName(name))
      throw new WharfError('INVALID_ARGUMENT', `invalid user name '${name}': 1-255 characters, no spaces, ':' or ','`)
    const existing = this.get(name)
    const user: UserRecord = existing
      ? { ...existing, scram: { ...existing.scram }, accessKeys: [...existing.accessKeys] }
      : { name, scram: {}, tags: [], accessKeys: [] }
    if (changes.password !== undefined) {
      if (changes.password === '') throw new WharfError('INVALID_ARGUMENT', 'the password must not be empty')
      user.passwordHash = await hashPassword(changes.password)
      for (const mechanism of scramMechanisms)
        user.scram[mechanism] = await deriveScramCredential(mechanism, changes.password)
    }
    if (changes.tags !== undefined) user.tags = parseTags(changes.tags)
    if (changes.accessKeys !== undefined) {
      for (const key of changes.accessKeys) {
        if (!/^[A-Za-z0-9]{4,128}$/.test(key.id) || key.secret.length < 8)
          throw new WharfError('INVALID_ARGUMENT', 'an access key id is 4-128 letters/digits, its secret 8+ characters')
        const owner = this.accessKey(key.id)
        if (owner && owner.user.name !== name)
          throw new WharfError('INVALID_ARGUMENT', `access key ${key.id} belongs to another user`)
      }
      user.accessKeys = changes.accessKeys.map(({ id, secret }) => ({ id, secret }))
    }
    if (changes.loopbackOnly !== undefined) {
      if (changes.loopbackOnly) user.loopbackOnly = true
      else delete user.loopbackOnly
    }
    await this.#metadata.put(KIND, name, user)
    this.#generation++
    await this.#settle()
    return view(user)
  }

  /**
   * Writes a user record as another broker exported it (definitions import): its password hash and SCRAM
   * credentials are taken as they are, so no plain password ever travels. Replaces a user of that name.
   */
  async restore(input: unknown): Promise<UserView> {
    const record = input as Partial<UserRecord> | null
    const fail = (what: string): never => {
      throw new WharfError('INVALID_ARGUMENT', `user record: ${what}`)
    }
    if (record === null || typeof record !== 'object') return fail('must be an object')
    if (typeof record.name !== 'string' || !validUserName(record.name)) return fail(`invalid name '${record.name}'`)
    if ('password' in record) fail(`${record.name}: a plain password is not imported; give passwordHash (as exported)`)
    if (record.passwordHash !== undefined && !/^scrypt\$[^\s]+$/.test(String(record.passwordHash)))
      fail('passwordHash must be a scrypt$... hash')
    const scram: UserRecord['scram'] = {}
    for (const [mechanism, c] of Object.entries(record.scram ?? {})) {
      if (!(scramMechanisms as readonly string[]).includes(mechanism)) fail(`unknown SCRAM mechanism ${mechanism}`)
      const ok =
        c !== null &&
        typeof c === 'object' &&
        c.mechanism === mechanism &&
        Number.isInteger(c.iterations) &&
        [c.salt, c.storedKey, c.serverKey].every((v) => typeof v === 'string' && v !== '')
      if (!ok) fail(`bad ${mechanism} credential`)
      scram[mechanism as ScramMechanism] = {
        mechanism: c.mechanism,
        salt: c.salt,
        iterations: c.iterations,
        storedKey: c.storedKey,
        serverKey: c.serverKey,
      }
    }
    const accessKeys = record.accessKeys ?? []
    if (
      !Array.isArray(accessKeys) ||
      !accessKeys.every((k) => typeof k?.id === 'string' && typeof k.secret === 'string')
    )
      fail('accessKeys must be an array of {id, secret}')
    for (const key of accessKeys) {
      const owner = this.accessKey(key.id)
      if (owner && owner.user.name !== record.name) fail(`access key ${key.id} belongs to another user`)
    }
    const user: UserRecord = {
      name: record.name,
      scram,
      tags: parseTags(Array.isArray(record.tags) ? record.tags : []),
      accessKeys: accessKeys.map(({ id, secret }) => ({ id, secret })),
    }
    if (record.passwordHash !== undefined) user.passwordHash = record.passwordHash
    if (record.loopbackOnly === true) user.loopbackOnly = true
    await this.#metadata.put(KIND, user.name, user)
    this.#generation++
    await this.#settle()
    return view(user)
  }

  async delete(name: string): Promise<boolean> {
    if (this.get(name) === undefined) return false
    await this.#metadata.delete(KIND, name)
    this.#generation++
    await this.#settle()
    return true
  }

  /** Kafka AlterUserScramCredentials upsert: creates the user if needed (Kafka users are their credentials). */
  async setScramCredential(name: string, credential: ScramCredential): Promise<void> {
    if (!validUserName(name)) throw new WharfError('INVALID_ARGUMENT', `invalid user name '${name}'`)
    const user = this.get(name) ?? { name, scram: {}, tags: [], accessKeys: [] }
    await this.#metadata.put(KIND, name, { ...user, scram: { ...user.scram, [credential.mechanism]: credential } })
    this.#generation++
    await this.#settle()
  }

  /** False when the user has no credential of that mechanism. */
  async deleteScramCredential(name: string, mechanism: ScramMechanism): Promise<boolean> {
    const user = this.get(name)
    if (user?.scram[mechanism] === undefined) return false
    const scram = { ...user.scram }
    delete scram[mechanism]
    await this.#metadata.put(KIND, name, { ...user, scram })
    this.#generation++
    await this.#settle()
    return true
  }

  /** The user whose password this is, else undefined; falls back to a SCRAM credential where there is no hash. */
  async verifyPassword(name: string, password: string): Promise<UserRecord | undefined> {
    const user = this.get(name)
    if (user === undefined) {
      // The same work as for a real user, so the time taken does not tell which names exist.
      await passwordMatches(DUMMY_HASH, password)
      return undefined
    }
    if (user.passwordHash !== undefined) return (await passwordMatches(user.passwordHash, password)) ? user : undefined
    // A user with only SCRAM credentials pays the scrypt too, or the faster check would tell it exists.
    await passwordMatches(DUMMY_HASH, password)
    for (const credential of Object.values(user.scram))
      if (credential && (await scramCredentialMatches(credential, password))) return user
    return undefined
  }

  /** The user holding an access key id, with its secret. */
  accessKey(id: string): { user: UserRecord; secret: string } | undefined {
    for (const [, user] of this.#metadata.list<UserRecord>(KIND))
      for (const key of user.accessKeys) if (key.id === id) return { user, secret: key.secret }
    return undefined
  }
}

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='

function view(user: UserRecord): UserView {
  return {
    name: user.name,
    tags: [...user.tags],
    hasPassword: user.passwordHash !== undefined,
    scram: Object.values(user.scram).flatMap((c) => (c ? [{ mechanism: c.mechanism, iterations: c.iterations }] : [])),
    accessKeyIds: user.accessKeys.map((k) => k.id),
    loopbackOnly: user.loopbackOnly === true,
  }
}
