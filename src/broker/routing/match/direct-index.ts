// AMQP direct exchange index: exact routing key → targets. Same add/remove/match shape as TopicIndex
// so an exchange can hold either behind one interface.

export class DirectIndex<T> {
  readonly #byKey = new Map<string, Set<T>>()
  #size = 0

  /** Number of distinct (routing key, target) bindings. */
  get size(): number {
    return this.#size
  }

  add(routingKey: string, target: T): boolean {
    let targets = this.#byKey.get(routingKey)
    if (targets === undefined) {
      targets = new Set<T>()
      this.#byKey.set(routingKey, targets)
    }
    if (targets.has(target)) return false
    targets.add(target)
    this.#size++
    return true
  }

  remove(routingKey: string, target: T): boolean {
    const targets = this.#byKey.get(routingKey)
    if (targets === undefined || !targets.delete(target)) return false
    if (targets.size === 0) this.#byKey.delete(routingKey)
    this.#size--
    return true
  }

  /** Adds the targets bound to routingKey to out (a new set unless given) and returns it. */
  match(routingKey: string, out: Set<T> = new Set<T>()): Set<T> {
    const targets = this.#byKey.get(routingKey)
    if (targets !== undefined) for (const target of targets) out.add(target)
    return out
  }

  /** The live target set for routingKey, without copying; callers must not mutate it. */
  get(routingKey: string): ReadonlySet<T> | undefined {
    return this.#byKey.get(routingKey)
  }
}
