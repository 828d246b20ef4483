// The trie shared by the AMQP topic index and the MQTT filter index: one node per pattern level,
// exact words in a WordTable, and at most one child each for the one-level and the multi-level
// wildcard. PatternTrie owns add/remove for a wildcard syntax (control plane; may allocate); matching
// lives in each index because the semantics differ (AMQP '#' matches zero words in any position,
// MQTT '#' is last and also matches its parent level).
import { assert } from '../../../util/assert.js'
import { WharfError } from '../../../util/errors.js'
import { WordTable } from './word-table.js'

/**
 * Deepest pattern an index accepts. Matching recurses once per level, so this bounds the stack;
 * 256 covers every AMQP binding key (a shortstr of at most 255 bytes has at most 256 words).
 */
export const patternLevelsMaxDefault = 256

export class TrieNode<T> {
  words: WordTable<TrieNode<T>> | undefined = undefined
  one: TrieNode<T> | undefined = undefined
  many: TrieNode<T> | undefined = undefined
  targets: Set<T> | undefined = undefined
  /** The pattern this node terminates (set when it first gets a target): MQTT reports it per match. */
  pattern: string | undefined = undefined
  /** Whether this node is a multi-level wildcard's: AMQP matching lets it consume any number of words. */
  manyLevel = false
  /** Scratch of set-based matching: the stamp of the last node set this node was added to. */
  seen = 0

  isEmpty(): boolean {
    return this.targets === undefined && this.one === undefined && this.many === undefined && this.words === undefined
  }
}

export interface TrieSyntax {
  /** Between levels: '.' for AMQP binding keys, '/' for MQTT filters. The empty pattern has no levels. */
  separator: string
  oneWord: string
  manyWord: string
  levelsMax: number
}

function child<T>(node: TrieNode<T>, level: string, syntax: TrieSyntax): TrieNode<T> | undefined {
  if (level === syntax.oneWord) return node.one
  if (level === syntax.manyWord) return node.many
  return node.words?.get(level)
}

function checkLevels(levels: readonly string[], syntax: TrieSyntax, pattern: string): void {
  if (levels.length > syntax.levelsMax) {
    throw new WharfError(
      'LIMIT_EXCEEDED',
      `pattern has ${levels.length} levels, more than ${syntax.levelsMax}: ${pattern.slice(0, 64)}`,
    )
  }
}

/** Adds target under the path levels; false when that exact binding already existed. */
export function trieInsert<T>(
  root: TrieNode<T>,
  levels: readonly string[],
  pattern: string,
  target: T,
  syntax: TrieSyntax,
): boolean {
  checkLevels(levels, syntax, pattern)
  let node = root
  for (const level of levels) {
    let next = child(node, level, syntax)
    if (next === undefined) {
      next = new TrieNode<T>()
      if (level === syntax.oneWord) node.one = next
      else if (level === syntax.manyWord) {
        node.many = next
        next.manyLevel = true
      } else {
        node.words ??= new WordTable<TrieNode<T>>()
        node.words.set(level, next)
      }
    }
    node = next
  }
  node.targets ??= new Set<T>()
  node.pattern ??= pattern
  assert(node.pattern === pattern, 'two patterns map to one trie node')
  if (node.targets.has(target)) return false
  node.targets.add(target)
  return true
}

/** Removes target from the path levels and prunes nodes left empty; false when it was not bound. */
export function trieRemove<T>(root: TrieNode<T>, levels: readonly string[], target: T, syntax: TrieSyntax): boolean {
  if (levels.length > syntax.levelsMax) return false
  const path: TrieNode<T>[] = [root]
  let node = root
  for (const level of levels) {
    const next = child(node, level, syntax)
    if (next === undefined) return false
    path.push(next)
    node = next
  }
  if (node.targets?.delete(target) !== true) return false
  if (node.targets.size === 0) {
    node.targets = undefined
    node.pattern = undefined
  }
  // Prune bottom-up so that a churn of unique patterns does not leave dead nodes behind.
  for (let depth = levels.length; depth > 0; depth--) {
    const current = path[depth]!
    if (!current.isEmpty()) break
    const parent = path[depth - 1]!
    const level = levels[depth - 1]!
    if (level === syntax.oneWord) parent.one = undefined
    else if (level === syntax.manyWord) parent.many = undefined
    else if (parent.words !== undefined) {
      parent.words.delete(level)
      if (parent.words.size === 0) parent.words = undefined
    }
  }
  return true
}

/** The bindings of one index: a trie under one wildcard syntax; subclasses add matching over `root`. */
export abstract class PatternTrie<T> {
  protected readonly root = new TrieNode<T>()
  readonly #syntax: TrieSyntax
  #size = 0

  constructor(syntax: TrieSyntax) {
    this.#syntax = syntax
  }

  /** Number of distinct (pattern, target) bindings. */
  get size(): number {
    return this.#size
  }

  /** Binds target to pattern; false when exactly this binding existed already. */
  add(pattern: string, target: T): boolean {
    const added = trieInsert(this.root, this.#levels(pattern), pattern, target, this.#syntax)
    if (added) this.#size++
    return added
  }

  remove(pattern: string, target: T): boolean {
    const removed = trieRemove(this.root, this.#levels(pattern), target, this.#syntax)
    if (removed) this.#size--
    return removed
  }

  #levels(pattern: string): string[] {
    return pattern === '' ? [] : pattern.split(this.#syntax.separator)
  }
}
