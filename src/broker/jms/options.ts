// Settings of the JMS destination layer (BrokerOptions.jms). Kept apart so config.ts can name them without
// importing the layer itself.

export interface VirtualTopicPrefixes {
  /** Prefix of the consumer queues before the consumer name (ActiveMQ: `Consumer.`). */
  consumer: string
  /** Prefix of virtual topic names (ActiveMQ: `VirtualTopic.`). */
  topic: string
}

export const defaultVirtualTopicPrefixes: VirtualTopicPrefixes = { consumer: 'Consumer.', topic: 'VirtualTopic.' }

export interface JmsOptions {
  virtualTopics?: Partial<VirtualTopicPrefixes>
  /** Temporary destinations one connection may hold (default 1000). */
  temporariesPerOwnerMax?: number
}
