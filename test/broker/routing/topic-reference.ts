// An independent reference for AMQP topic matching, for the property tests of the topic index and the
// router: RabbitMQ's split_topic_key plus a recursive word-list matcher.

function words(key: string): string[] {
  return key === '' ? [] : key.split('.')
}

function wordsMatch(pattern: readonly string[], key: readonly string[]): boolean {
  if (pattern.length === 0) return key.length === 0
  const [head, ...rest] = pattern
  if (head === '#') {
    for (let i = 0; i <= key.length; i++) if (wordsMatch(rest, key.slice(i))) return true
    return false
  }
  if (key.length === 0) return false
  return (head === '*' || head === key[0]) && wordsMatch(rest, key.slice(1))
}

/** Whether binding key pattern matches routing key, as RabbitMQ's topic exchange decides. */
export function referenceTopicMatch(pattern: string, key: string): boolean {
  return wordsMatch(words(pattern), words(key))
}
