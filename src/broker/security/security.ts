// The one authenticator and authorizer every listener uses: users, ACLs, the anonymous policy, and the
// slowing of failed logins per source address. Protocol adapters turn its answers into their own errors.
import type { MetadataStore } from '../../storage/api.js'
import { isLoopbackAddress, unmappedAddress } from '../../util/net.js'
import { type AclBinding, AclStore, parseAclBinding } from './acls.js'
import { Access, ANONYMOUS, type Principal } from './authorizer.js'
import { TokenStore } from './tokens.js'
import { type AccessKey, type UserRecord, UserStore } from './users.js'

export interface SecurityPolicy {
  /** Clients that present no identity act as User:ANONYMOUS. */
  anonymous: boolean
  /** What a principal may do where no allow rule names it. */
  defaultPermission: 'allow' | 'deny'
}

/** A user as the config file lists it (bootstrap). */
export interface ConfiguredUser {
  name: string
  password?: string
  tags?: string[]
  accessKeys?: AccessKey[]
}

const FAILURE_DELAY_MS = 100
const FAILURE_DELAY_MAX_MS = 3000
/** Failures are forgotten after this long without another. */
const FAILURE_WINDOW_MS = 60_000
const FAILURE_ADDRESSES_MAX = 10_000

export class Security {
  readonly users: UserStore
  readonly acls: AclStore
  /** Bearer tokens of the HTTP admin API (tokens.ts). */
  readonly tokens: TokenStore
  #policy: SecurityPolicy = { anonymous: true, defaultPermission: 'allow' }
  #policyGeneration = 0
  readonly #failures = new Map<string, { count: number; last: number }>()
  readonly #now: () => number
  readonly #metadata: MetadataStore

  /**
   * settle: resolves once every broker sharing the catalog has applied this one's changes, so a user, rule or
   * token made through one broker works through any other once the change is answered.
   */
  constructor(metadata: MetadataStore, now: () => number = Date.now, settle: () => Promise<void> = async () => {}) {
    this.#metadata = metadata
    this.users = new UserStore(metadata, settle)
    this.acls = new AclStore(metadata, settle)
    this.tokens = new TokenStore(metadata, now, settle)
    this.#now = now
  }

  get policy(): Readonly<SecurityPolicy> {
    return this.#policy
  }

  configure(policy: Partial<SecurityPolicy>): void {
    this.#policy = { ...this.#policy, ...policy }
    this.#policyGeneration++
  }

  /**
   * Changes whenever a rule, a user or the policy changes (a cached decision or login is stale then): each
   * counter only grows, so their sum grows with any of them and never repeats an earlier value.
   */
  get generation(): number {
    return this.acls.generation + this.users.generation + this.#policyGeneration
  }

  /** The anonymous principal, when anonymous access is on. */
  anonymous(): Principal | undefined {
    return this.#policy.anonymous ? { name: ANONYMOUS, tags: [], mechanism: 'anonymous' } : undefined
  }

  /** The principal of a user known by other means (a verified certificate, a SCRAM exchange). */
  principal(name: string, mechanism: string): Principal {
    return { name, tags: this.users.get(name)?.tags ?? [], mechanism }
  }

  /**
   * Checks a user name and password from `peerAddress`. A wrong one resolves undefined only after a delay that
   * grows with the failures from that address, so guessing is slow while other clients are not held up.
   */
  async login(
    name: string,
    password: string,
    peerAddress: string | undefined,
    mechanism = 'PLAIN',
  ): Promise<Principal | undefined> {
    const user = await this.users.verifyPassword(name, password)
    if (user !== undefined && this.#mayLogInFrom(user, peerAddress)) {
      this.#failures.delete(peerAddress ?? '')
      return { name: user.name, tags: user.tags, mechanism }
    }
    await this.loginFailed(peerAddress)
    return undefined
  }

  /** May this user log in from there at all (loopback-only users such as guest)? */
  #mayLogInFrom(user: UserRecord, peerAddress: string | undefined): boolean {
    return user.loopbackOnly !== true || isLoopbackAddress(peerAddress)
  }

  /** Whether a user that a mechanism verified by itself (SCRAM) may log in from there. */
  mayLogIn(name: string, peerAddress: string | undefined): boolean {
    const user = this.users.get(name)
    return user !== undefined && this.#mayLogInFrom(user, peerAddress)
  }

  /** Records a failed login from an address and waits out its delay (call before answering the client). */
  loginFailed(peerAddress: string | undefined): Promise<void> {
    const key = peerAddress ?? ''
    const now = this.#now()
    let entry = this.#failures.get(key)
    if (entry === undefined || now - entry.last > FAILURE_WINDOW_MS) entry = { count: 0, last: now }
    entry.count++
    entry.last = now
    this.#failures.delete(key)
    this.#failures.set(key, entry)
    if (this.#failures.size > FAILURE_ADDRESSES_MAX) {
      const oldest = this.#failures.keys().next().value
      if (oldest !== undefined) this.#failures.delete(oldest)
    }
    const delay = Math.min(FAILURE_DELAY_MS * 2 ** (entry.count - 1), FAILURE_DELAY_MAX_MS)
    return new Promise((resolve) => setTimeout(resolve, delay))
  }

  /** A connection's authorizer: decisions cached per resource until a rule or user changes. */
  access(principal: Principal, host: string | undefined): Access {
    return new Access(principal, unmappedAddress(host ?? ''), this.acls, this.users, {
      defaultAllow: () => this.#policy.defaultPermission === 'allow',
      generation: () => this.generation,
    })
  }

  /**
   * Applies the config file's users and rules: listed users are created or updated (their password, tags and
   * keys as listed), rules are added; users and rules made elsewhere are left alone. With no user at all
   * afterwards on a first start, the loopback-only `guest` (password guest, administrator) is created, as
   * RabbitMQ does; once deleted it stays deleted.
   */
  async bootstrap(users: readonly ConfiguredUser[], acls: ReadonlyArray<Record<string, unknown>>): Promise<void> {
    const rules: AclBinding[] = acls.map((rule) => parseAclBinding(rule))
    for (const user of users) {
      const current = this.users.get(user.name)
      const samePassword =
        user.password !== undefined &&
        current !== undefined &&
        (await this.users.verifyPassword(user.name, user.password))
      await this.users.put(user.name, {
        ...(user.password !== undefined && !samePassword ? { password: user.password } : {}),
        tags: user.tags ?? [],
        accessKeys: user.accessKeys ?? [],
      })
    }
    await this.acls.add(rules)
    if (this.#metadata.get('security', 'initialized') === undefined) {
      if (this.users.size === 0)
        await this.users.put('guest', { password: 'guest', tags: ['administrator'], loopbackOnly: true })
      await this.#metadata.put('security', 'initialized', true)
    }
  }
}
