// JMS client ids: a client id names one connection at a time. ActiveMQ refuses a second connection with a
// client id already connected (InvalidClientIDException) rather than taking the id over, and Wharf does the
// same: durable subscriptions are keyed by client id, so two live holders would be two subscribers of one
// unshared durable subscription. The id is free again once its owner is released (connection closed).
import { WharfError } from '../../util/errors.js'

export class ClientIds {
  readonly #owners = new Map<string, string>()
  readonly #byOwner = new Map<string, string>()

  /** Claims a client id for an owner (connection id); RESOURCE_LOCKED when another owner holds it. */
  claim(clientId: string, owner: string): void {
    if (clientId === '') throw new WharfError('INVALID_ARGUMENT', 'a client id must not be empty')
    const holder = this.#owners.get(clientId)
    if (holder === owner) return
    if (holder !== undefined)
      throw new WharfError('RESOURCE_LOCKED', `client id '${clientId}' is already connected`, {
        detail: { reason: 'in-use', value: clientId },
      })
    const previous = this.#byOwner.get(owner)
    if (previous !== undefined) this.#owners.delete(previous)
    this.#owners.set(clientId, owner)
    this.#byOwner.set(owner, clientId)
  }

  holder(clientId: string): string | undefined {
    return this.#owners.get(clientId)
  }

  release(owner: string): void {
    const clientId = this.#byOwner.get(owner)
    if (clientId === undefined) return
    this.#byOwner.delete(owner)
    this.#owners.delete(clientId)
  }
}
