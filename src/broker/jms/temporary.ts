// Temporary queues and topics (JMS TemporaryQueue / TemporaryTopic): created by a connection, named by the
// broker, consumed only by their owner, sent to by anyone who learns the name (request/reply: the name
// travels in `reply-to`), deleted with the owning connection (releaseOwner).
// A temporary queue is a transient queue whose exclusiveOwner is the connection, so the broker's own
// releaseOwner deletes it. A temporary topic is a routing key on the topic exchange that only its owner may
// subscribe to; once the owner is gone, sends to it are refused.
import { WharfError } from '../../util/errors.js'

export type TemporaryKind = 'queue' | 'topic'

/** What is known of a temporary destination: its broker name and who owns it. */
export interface Temporary {
  kind: TemporaryKind
  /** Queue name (temporary queue) or routing key (temporary topic). */
  name: string
  owner: string
}

/** Most temporary destinations one owner may hold (each holds a queue or a name). */
export const TEMPORARIES_PER_OWNER_MAX = 1000

export class TemporaryDestinations {
  readonly #byName = new Map<string, Temporary>()
  readonly #byOwner = new Map<string, Set<string>>()
  readonly #createQueue: (name: string, owner: string) => Promise<void>
  readonly #perOwnerMax: number

  constructor(createQueue: (name: string, owner: string) => Promise<void>, perOwnerMax = TEMPORARIES_PER_OWNER_MAX) {
    this.#createQueue = createQueue
    this.#perOwnerMax = perOwnerMax
  }

  /**
   * The broker name of the owner's temporary destination called `local` by the client (STOMP's
   * `/temp-queue/<local>`), created on first use. Names are unique per owner (owner ids are unique).
   */
  async create(kind: TemporaryKind, owner: string, local: string): Promise<Temporary> {
    const name = temporaryName(kind, owner, local)
    const known = this.#byName.get(name)
    if (known !== undefined) return known
    let names = this.#byOwner.get(owner)
    if ((names?.size ?? 0) >= this.#perOwnerMax)
      throw new WharfError('LIMIT_EXCEEDED', `at most ${this.#perOwnerMax} temporary destinations per connection`)
    if (kind === 'queue') await this.#createQueue(name, owner)
    const temporary: Temporary = { kind, name, owner }
    this.#byName.set(name, temporary)
    if (names === undefined) {
      names = new Set()
      this.#byOwner.set(owner, names)
    }
    names.add(name)
    return temporary
  }

  /** A live temporary destination by its broker name; undefined when unknown or deleted. */
  get(name: string): Temporary | undefined {
    return this.#byName.get(name)
  }

  /**
   * The temporary destination a consumer may read: only its owner may (JMS), and it must still exist.
   * SUBSCRIPTION_NOT_FOUND when gone, ACCESS_REFUSED for another connection.
   */
  consumable(name: string, owner: string): Temporary {
    const temporary = this.sendable(name)
    if (temporary.owner !== owner)
      throw new WharfError('ACCESS_REFUSED', `only the connection that created '${name}' may consume from it`, {
        detail: { queue: name },
      })
    return temporary
  }

  /** The temporary destination a producer sends to; SUBSCRIPTION_NOT_FOUND once its owner is gone. */
  sendable(name: string): Temporary {
    const temporary = this.#byName.get(name)
    if (temporary === undefined)
      throw new WharfError('SUBSCRIPTION_NOT_FOUND', `temporary destination '${name}' does not exist`, {
        detail: { queue: name },
      })
    return temporary
  }

  /** Forgets the owner's temporary destinations (its queues are deleted by the broker's releaseOwner). */
  release(owner: string): void {
    const names = this.#byOwner.get(owner)
    if (names === undefined) return
    this.#byOwner.delete(owner)
    for (const name of names) this.#byName.delete(name)
  }
}

/** `temp-queue.<owner>.<local>` / `temp-topic.<owner>.<local>`. */
export function temporaryName(kind: TemporaryKind, owner: string, local: string): string {
  return `temp-${kind}.${owner}.${local}`
}
