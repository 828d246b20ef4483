// Routing primitives the broker's exchanges, MQTT sessions and SNS topics are built on. Pure logic:
// no I/O, generic over the bound target type.

export {
  compileFilterPolicy,
  type FilterPolicy,
  type FilterPolicyScope,
  filterPolicyBytesMax,
  filterPolicyCombinationsMax,
  filterPolicyKeysMax,
  type MessageAttributes,
  type MessageAttributeValue,
} from '../../topics/filter.js'
export { DirectIndex } from './direct-index.js'
export { amqpValueEquals, type HeadersMatchMode, headersMatchMode, matchHeaders } from './headers.js'
export {
  amqpPatternToMqttFilter,
  amqpRoutingKeyToMqttTopic,
  isDollarTopic,
  mqttFilterToAmqpPattern,
  mqttTopicToAmqpRoutingKey,
  parseSharedSubscription,
  topicBytesMax,
  validateTopicFilter,
  validateTopicName,
} from './mqtt-topic.js'
export { type MqttMatch, MqttTrie } from './mqtt-trie.js'
export { TopicIndex } from './topic-index.js'
export { patternLevelsMaxDefault } from './trie.js'
