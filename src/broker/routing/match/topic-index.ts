// AMQP topic exchange index (RabbitMQ semantics). Binding keys and routing keys are words split on
// '.', empty words included ("a..b" has three words); the empty string has zero words, as in
// RabbitMQ's split_topic_key. '*' matches exactly one word and '#' zero or more; any other word,
// including "a*" or "#b", is literal.
//
// Matching simulates the trie as an NFA: it keeps the set of trie nodes the words so far can reach and
// advances the whole set one word at a time, each node at most once per word. A backtracking walk
// would try every way of splitting the key among the '#' of a pattern, which is exponential in their
// number; the set walk costs at most words × trie nodes whatever the patterns. It reads the key by
// char-code offsets, so it allocates nothing but the result set once its scratch arrays have grown.
import { PatternTrie, patternLevelsMaxDefault, type TrieNode } from './trie.js'

export class TopicIndex<T> extends PatternTrie<T> {
  /** Node visits of every match() so far: the work matching did, for tests and metrics. */
  steps = 0
  #current: TrieNode<T>[] = []
  #next: TrieNode<T>[] = []
  /** Stamp of the set being built: a node whose `seen` equals it is already in that set. */
  #stamp = 0

  constructor(options: { levelsMax?: number } = {}) {
    super({ separator: '.', oneWord: '*', manyWord: '#', levelsMax: options.levelsMax ?? patternLevelsMaxDefault })
  }

  /** Adds every target whose pattern matches routingKey to out (a new set unless given) and returns it. */
  match(routingKey: string, out: Set<T> = new Set<T>()): Set<T> {
    let current = this.#current
    let next = this.#next
    current.length = 0
    this.#stamp++
    this.#enter(this.root, current)
    if (routingKey !== '') {
      let start = 0
      for (;;) {
        let end = routingKey.indexOf('.', start)
        if (end === -1) end = routingKey.length
        next.length = 0
        this.#stamp++
        for (let i = 0; i < current.length; i++) {
          const node = current[i]!
          // A '#' node swallows this word and stays where it is.
          if (node.manyLevel) this.#enter(node, next)
          if (node.one !== undefined) this.#enter(node.one, next)
          if (node.words !== undefined) {
            const exact = node.words.lookup(routingKey, start, end)
            if (exact !== undefined) this.#enter(exact, next)
          }
        }
        const swap = current
        current = next
        next = swap
        if (current.length === 0 || end === routingKey.length) break
        start = end + 1
      }
    }
    for (const node of current) if (node.targets !== undefined) for (const target of node.targets) out.add(target)
    this.#current = current
    this.#next = next
    current.length = 0
    next.length = 0
    return out
  }

  /** Adds node to set unless this step already has it, then its '#' child: '#' may match zero words. */
  #enter(node: TrieNode<T>, set: TrieNode<T>[]): void {
    for (let at: TrieNode<T> | undefined = node; at !== undefined && at.seen !== this.#stamp; at = at.many) {
      at.seen = this.#stamp
      set.push(at)
      this.steps++
    }
  }
}
