// AMQP topic exchange index (RabbitMQ semantics). Binding keys and routing keys are words split on
// '.', empty words included ("a..b" has three words); the empty string has zero words, as in
// RabbitMQ's split_topic_key. '*' matches exactly one word and '#' zero or more; any other word,
// including "a*" or "#b", is literal. Matching walks the trie with char-code offsets into the
// routing key, so it allocates nothing but the result set and its cost depends on the key and the
// trie's shape, not on how many bindings share a path.
import { PatternTrie, patternLevelsMaxDefault, type TrieNode } from './trie.js'

/** Routing-key position meaning "all words consumed". */
const end = -1
const dot = 46

function addAll<T>(targets: Set<T> | undefined, out: Set<T>): void {
  if (targets !== undefined) for (const target of targets) out.add(target)
}

/** Next word start after the word starting at position, or `end`. */
function nextWord(key: string, position: number): number {
  const separator = key.indexOf('.', position)
  return separator === -1 ? end : separator + 1
}

function collect<T>(node: TrieNode<T>, key: string, position: number, out: Set<T>): void {
  if (node.many !== undefined) {
    // '#' swallows zero or more words: continue below it from every later word boundary.
    let p = position
    for (;;) {
      collect(node.many, key, p, out)
      if (p === end) break
      p = nextWord(key, p)
    }
  }
  if (position === end) {
    addAll(node.targets, out)
    return
  }
  let wordEnd = position
  while (wordEnd < key.length && key.charCodeAt(wordEnd) !== dot) wordEnd++
  const next = wordEnd === key.length ? end : wordEnd + 1
  if (node.words !== undefined) {
    const exact = node.words.lookup(key, position, wordEnd)
    if (exact !== undefined) collect(exact, key, next, out)
  }
  if (node.one !== undefined) collect(node.one, key, next, out)
}

export class TopicIndex<T> extends PatternTrie<T> {
  constructor(options: { levelsMax?: number } = {}) {
    super({ separator: '.', oneWord: '*', manyWord: '#', levelsMax: options.levelsMax ?? patternLevelsMaxDefault })
  }

  /** Adds every target whose pattern matches routingKey to out (a new set unless given) and returns it. */
  match(routingKey: string, out: Set<T> = new Set<T>()): Set<T> {
    collect(this.root, routingKey, routingKey === '' ? end : 0, out)
    return out
  }
}
