// IncrementalAlterConfigs (KIP-339): changes only the topic configs it names (SET, DELETE back to the default,
// APPEND/SUBTRACT items of a list), unlike AlterConfigs, which replaces the whole set. Authorization as
// AlterConfigs: on the topic (broker configs: on the cluster; Wharf's broker configs are read-only here).
import type { StreamConfig } from '../../broker/config.js'
import { validateStreamConfig } from '../../broker/config.js'
import { authorizeConfigs, messageOf, ResourceType } from './admin.js'
import type { IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from './codec/index.js'
import { incrementalChange } from './configs.js'
import type { Connection } from './connection.js'
import { errorCodeOf, KafkaError } from './errors.js'

type Resource = IncrementalAlterConfigsRequest['resources'][number]
type Result = IncrementalAlterConfigsResponse['responses'][number]

async function alterOne(c: Connection, r: Resource, validateOnly: boolean): Promise<Result> {
  const base = { resourceType: r.resourceType, resourceName: r.resourceName }
  const denial = authorizeConfigs(c, 'AlterConfigs', r.resourceType, r.resourceName)
  if (denial !== undefined) return { ...base, ...denial }
  if (r.resourceType !== ResourceType.TOPIC)
    return { ...base, errorCode: KafkaError.INVALID_REQUEST, errorMessage: 'Only topic configs can be altered' }
  const names = r.configs.map((e) => e.name)
  if (new Set(names).size !== names.length)
    return { ...base, errorCode: KafkaError.INVALID_REQUEST, errorMessage: 'Error due to duplicate config keys' }
  const stream = c.server.broker.getStream(r.resourceName)
  if (stream === undefined)
    return {
      ...base,
      errorCode: KafkaError.UNKNOWN_TOPIC_OR_PARTITION,
      errorMessage: `Topic '${r.resourceName}' does not exist.`,
    }
  try {
    // Entries apply in order, each to the config as the ones before it left it; all or none is stored.
    let changes: Partial<StreamConfig> = {}
    for (const entry of r.configs) {
      const current = validateStreamConfig(changes, stream.config)
      changes = { ...changes, ...incrementalChange(current, entry) }
    }
    validateStreamConfig(changes, stream.config)
    if (!validateOnly && Object.keys(changes).length > 0) await c.server.broker.alterStream(r.resourceName, changes)
    return { ...base, errorCode: KafkaError.NONE, errorMessage: null }
  } catch (error) {
    return { ...base, errorCode: errorCodeOf(error), errorMessage: messageOf(error) }
  }
}

export async function handleIncrementalAlterConfigs(
  c: Connection,
  req: IncrementalAlterConfigsRequest,
): Promise<IncrementalAlterConfigsResponse> {
  const responses: Result[] = []
  // One at a time: two resources naming the same topic apply in request order.
  for (const r of req.resources) responses.push(await alterOne(c, r, req.validateOnly))
  return { throttleTimeMs: 0, responses }
}
