// MQTT topic filter index. Levels split on '/', empty levels are real levels ("a//b" has three);
// '+' matches exactly one level, '#' (always last) matches its parent level and everything below
// ("sport/#" matches "sport") [MQTT-4.7.1-2]. Filters beginning with a wildcard do not match topic
// names beginning with '$' [MQTT-4.7.2-1]. Matching scans the topic by char code and reports each
// (target, filter) pair, so a session subscribed through overlapping filters hears about each one
// (MQTT 5 subscription identifiers and per-subscription QoS need that); matchSet dedupes.
import { WharfError } from '../../../util/errors.js'
import { isDollarTopic, validateTopicFilter } from './mqtt-topic.js'
import { PatternTrie, patternLevelsMaxDefault, type TrieNode } from './trie.js'

/** Topic position meaning "all levels consumed". */
const end = -1
const slash = 47

export type MqttMatch<T> = (target: T, filter: string) => void

function emit<T>(node: TrieNode<T>, out: MqttMatch<T>): void {
  const targets = node.targets
  if (targets === undefined) return
  const filter = node.pattern as string
  for (const target of targets) out(target, filter)
}

function collect<T>(node: TrieNode<T>, topic: string, position: number, root: boolean, out: MqttMatch<T>): void {
  const hidden = root && isDollarTopic(topic)
  // '#' matches the remaining levels, including none: "a/#" matches "a" and "a/b/c".
  if (node.many !== undefined && !hidden) emit(node.many, out)
  if (position === end) {
    emit(node, out)
    return
  }
  let levelEnd = position
  while (levelEnd < topic.length && topic.charCodeAt(levelEnd) !== slash) levelEnd++
  const next = levelEnd === topic.length ? end : levelEnd + 1
  if (node.words !== undefined) {
    const exact = node.words.lookup(topic, position, levelEnd)
    if (exact !== undefined) collect(exact, topic, next, false, out)
  }
  if (node.one !== undefined && !hidden) collect(node.one, topic, next, false, out)
}

export class MqttTrie<T> extends PatternTrie<T> {
  constructor(options: { levelsMax?: number } = {}) {
    super({ separator: '/', oneWord: '+', manyWord: '#', levelsMax: options.levelsMax ?? patternLevelsMaxDefault })
  }

  /**
   * Subscribes target to a plain filter (strip `$share/<group>/` first with parseSharedSubscription).
   * Throws INVALID_ARGUMENT for an invalid filter and LIMIT_EXCEEDED past levelsMax levels.
   */
  override add(filter: string, target: T): boolean {
    const reason = validateTopicFilter(filter)
    if (reason !== null) throw new WharfError('INVALID_ARGUMENT', reason)
    return super.add(filter, target)
  }

  /** Calls out once per (target, filter) subscription matching topic. */
  match(topic: string, out: MqttMatch<T>): void {
    collect(this.root, topic, 0, true, out)
  }

  /** The distinct targets with at least one filter matching topic. */
  matchSet(topic: string, out: Set<T> = new Set<T>()): Set<T> {
    collect(this.root, topic, 0, true, (target) => out.add(target))
    return out
  }
}
