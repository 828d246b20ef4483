// Open-addressing hash table from word to value whose lookups take a (string, start, end) range,
// so trie matching never slices the routing key or topic into substrings (no per-level allocation).
// Linear probing with backward-shift deletion: no tombstones, so a long-lived trie that sees many
// binds and unbinds keeps short probe chains.
import { assert } from '../../../util/assert.js'

const capacityInitial = 4

/** FNV-1a over UTF-16 code units of key[start, end). */
function hashRange(key: string, start: number, end: number): number {
  let h = 0x811c9dc5
  for (let i = start; i < end; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return h >>> 0
}

export class WordTable<V> {
  #words: (string | undefined)[] = new Array(capacityInitial).fill(undefined)
  #hashes: number[] = new Array(capacityInitial).fill(0)
  #values: (V | undefined)[] = new Array(capacityInitial).fill(undefined)
  #size = 0

  get size(): number {
    return this.#size
  }

  /** The value stored for the word key[start, end), without allocating the substring. */
  lookup(key: string, start: number, end: number): V | undefined {
    const length = end - start
    const mask = this.#words.length - 1
    let i = hashRange(key, start, end) & mask
    for (;;) {
      const word = this.#words[i]
      if (word === undefined) return undefined
      if (word.length === length && key.startsWith(word, start)) return this.#values[i]
      i = (i + 1) & mask
    }
  }

  get(word: string): V | undefined {
    return this.lookup(word, 0, word.length)
  }

  set(word: string, value: V): void {
    const hash = hashRange(word, 0, word.length)
    const index = this.#find(word, hash)
    if (this.#words[index] !== undefined) {
      this.#values[index] = value
      return
    }
    // Keep the load factor at or below 1/2 so probe chains stay short.
    if ((this.#size + 1) * 2 > this.#words.length) {
      this.#grow()
      this.set(word, value)
      return
    }
    this.#words[index] = word
    this.#hashes[index] = hash
    this.#values[index] = value
    this.#size++
  }

  delete(word: string): boolean {
    const mask = this.#words.length - 1
    let hole = this.#find(word, hashRange(word, 0, word.length))
    if (this.#words[hole] === undefined) return false
    this.#size--
    // Backward shift: pull later entries of the same cluster into the hole when the hole lies
    // between their home slot and their current slot (cyclically).
    let next = hole
    for (;;) {
      next = (next + 1) & mask
      const moved = this.#words[next]
      if (moved === undefined) break
      const home = this.#hashes[next]! & mask
      const distanceHole = (hole - home) & mask
      const distanceNext = (next - home) & mask
      if (distanceHole < distanceNext) {
        this.#words[hole] = moved
        this.#hashes[hole] = this.#hashes[next]!
        this.#values[hole] = this.#values[next]
        hole = next
      }
    }
    this.#words[hole] = undefined
    this.#values[hole] = undefined
    return true
  }

  *values(): IterableIterator<V> {
    for (let i = 0; i < this.#words.length; i++) if (this.#words[i] !== undefined) yield this.#values[i] as V
  }

  /** Slot holding word, or the empty slot where it would go. */
  #find(word: string, hash: number): number {
    const mask = this.#words.length - 1
    let i = hash & mask
    for (;;) {
      const stored = this.#words[i]
      if (stored === undefined || stored === word) return i
      i = (i + 1) & mask
    }
  }

  #grow(): void {
    const words = this.#words
    const hashes = this.#hashes
    const values = this.#values
    const capacity = words.length * 2
    this.#words = new Array(capacity).fill(undefined)
    this.#hashes = new Array(capacity).fill(0)
    this.#values = new Array(capacity).fill(undefined)
    const mask = capacity - 1
    for (let i = 0; i < words.length; i++) {
      const word = words[i]
      if (word === undefined) continue
      let j = hashes[i]! & mask
      while (this.#words[j] !== undefined) j = (j + 1) & mask
      this.#words[j] = word
      this.#hashes[j] = hashes[i]!
      this.#values[j] = values[i]
    }
    assert(this.#size * 2 <= capacity, 'word table grew below its load factor')
  }
}
