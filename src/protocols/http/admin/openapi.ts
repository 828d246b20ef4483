// OpenAPI 3.0 description of the REST admin API, built from one table of operations so that the
// document and the routes in the admin-*.ts modules are reviewed side by side.

const listParams = [
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
  { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
  { name: 'q', in: 'query', description: 'case-insensitive substring filter on the name', schema: { type: 'string' } },
]

type Op = [method: string, path: string, summary: string, list?: boolean]

const operations: Op[] = [
  ['get', '/overview', 'Counts of streams, queues, exchanges, groups, topics'],
  [
    'get',
    '/streams',
    'List streams with partitions, offsets and role (stream | queue | internal); ?internal=false lists plain streams only',
    true,
  ],
  [
    'post',
    '/streams',
    "Create a stream: {name, partitions?, retentionMs?, ...StreamConfig}; names are 1-249 of [a-zA-Z0-9._-], not '.' or '..'",
  ],
  ['get', '/streams/{name}/consumers', 'Consumer groups (with members and lag) and queues that read a stream'],
  ['get', '/streams/{name}', 'Describe a stream'],
  ['put', '/streams/{name}', 'Change stream settings (partitions can only grow)'],
  ['delete', '/streams/{name}', 'Delete a stream (?force=true also deletes queues reading it)'],
  [
    'post',
    '/streams/{name}/messages',
    'Produce: {messages: [{key?, value, headers?, partition?, encoding?}], encoding?: json|text|base64}',
  ],
  [
    'get',
    '/streams/{name}/messages',
    'Peek by ?partition=&offset=|latest&timestamp=&limit=&encoding=; Confluent-framed records also carry keyDecoded/valueDecoded {schemaId, subject, type, json|error}',
  ],
  [
    'get',
    '/queues',
    "List queues with ready/in-flight/delayed counts; ?internal=false leaves out protocols' own (MQTT sessions)",
    true,
  ],
  ['post', '/queues', 'Create a queue: {name, ...QueueConfig} (the stream name rule)'],
  ['get', '/queues/{name}', 'Describe a queue'],
  ['delete', '/queues/{name}', 'Delete a queue (?ifEmpty=true, ?ifUnused=true)'],
  ['post', '/queues/{name}/messages', 'Send to a queue: {messages: [...]}'],
  [
    'get',
    '/queues/{name}/messages',
    'Non-destructive peek of unacked messages (?limit=&encoding=); AMQP publishes carry properties by name',
  ],
  [
    'post',
    '/queues/{name}/get',
    'Destructive get: {count?, ackMode?: ack|requeue|reject, encoding?}; the messages taken, settled as ackMode says',
  ],
  ['post', '/queues/{name}/purge', 'Remove every message not in flight'],
  [
    'post',
    '/queues/{name}/redrive',
    'Move dead-lettered messages back: {destination?} (default: the queue each died in)',
  ],
  ['get', '/exchanges', 'List exchanges', true],
  ['post', '/exchanges', 'Declare an exchange: {name, type, durable?, autoDelete?, internal?, arguments?}'],
  ['get', '/exchanges/{name}', 'Describe an exchange with its bindings'],
  ['delete', '/exchanges/{name}', 'Delete an exchange (?ifUnused=true)'],
  [
    'post',
    '/exchanges/{name}/publish',
    "Publish: {routingKey?, value, encoding?, properties?: {'content-type', 'delivery-mode', 'correlation-id', headers, ...}}; answers {routed}",
  ],
  ['get', '/bindings', 'List bindings', true],
  ['post', '/bindings', 'Bind: {source, destination: {kind, name}, key?, arguments?}'],
  ['delete', '/bindings', 'Unbind (same body as POST)'],
  ['get', '/groups', 'List consumer groups with lag', true],
  ['get', '/groups/{group}', 'Describe a consumer group with members, their assignments and per-partition lag'],
  [
    'post',
    '/groups/{group}/reset',
    'Reset offsets of an empty group: {stream, to: earliest|latest|offset|timestamp, offset?, timestamp?, partition?}',
  ],
  ['delete', '/groups/{group}', 'Delete an empty group with its committed offsets'],
  ['get', '/definitions', 'Export streams, queues, exchanges, bindings, users (hashed credentials), ACLs, schemas'],
  ['post', '/definitions', 'Import an exported document: creates what is missing, keeps what exists, replaces users'],
  ['get', '/listeners', 'Started listeners with ports, URLs and connection counts'],
  ['get', '/system', 'Process and data-directory facts (uptime, memory, disk use)'],
  [
    'get',
    '/connections',
    'Open Kafka/AMQP/MQTT connections (?protocol=kafka|amqp|mqtt) with client name/version',
    true,
  ],
  ['delete', '/connections/{id}', 'Close one connection (AMQP 320 CONNECTION_FORCED, MQTT 5 DISCONNECT 0x98)'],
  ['get', '/alarms', 'Active disk/memory alarms and blocked publishing connections'],
  ['get', '/cluster', 'Node id, live members and stream partition owners of a broker cluster (empty: one broker)'],
  ['get', '/mqtt/sessions', 'Persistent MQTT sessions with subscriptions and connection state', true],
  [
    'get',
    '/mqtt/retained',
    'Retained MQTT messages (topic, size, time, the first 4 KiB of the payload as text or ?encoding=base64)',
    true,
  ],
  [
    'get',
    '/rates',
    'Rates per second sampled on the server (the last hour; ?since=<epoch ms>) and current totals; out = queue deliveries + Kafka fetches + MQTT sends',
  ],
  ['get', '/topics', 'SNS topics with subscription counts', true],
  ['get', '/topics/{name}', 'Describe an SNS topic with its subscriptions'],
  ['get', '/queues/{name}/dead-letter-sources', 'Queues that dead-letter into this queue'],
  ['get', '/session', 'Who the caller is: {user, tags, via, anonymous, csrfToken, rights}'],
  ['post', '/session', 'Dashboard login: {user, password}; sets the HttpOnly session cookie, returns the CSRF token'],
  ['delete', '/session', 'Log out (cookie sessions send X-CSRF-Token)'],
  ['get', '/users', 'List users (administrators): name, tags, access key ids; never a secret', true],
  ['post', '/users', 'Create a user: {name, password?, tags?, accessKeys?: [{id, secret}], loopbackOnly?}'],
  ['get', '/users/{name}', 'Describe a user (no secrets)'],
  ['put', '/users/{name}', 'Create or change a user: the given fields of {password, tags, accessKeys, loopbackOnly}'],
  ['delete', '/users/{name}', 'Delete a user, its API tokens and sessions'],
  ['get', '/users/{name}/tokens', 'API tokens of a user (id, name, created); the user itself or an administrator'],
  ['post', '/users/{name}/tokens', 'Make an API token: {name}; the reply holds the token, shown only this once'],
  ['delete', '/users/{name}/tokens/{id}', 'Revoke an API token'],
  [
    'get',
    '/acls',
    'List ACL rules (administrators); filter ?principal=&host=&operation=&permission=&resourceType=&resourceName=&patternType=Literal|Prefixed|Match',
  ],
  [
    'post',
    '/acls',
    'Add rules: one {principal, host?, operation, permission?, resourceType, resourceName, patternType?} or {acls: [...]}',
  ],
  ['delete', '/acls', 'Delete the rules a filter selects (same query as GET; at least one field)'],
  [
    'get',
    '/acls/vocabulary',
    'What rules and users may hold: operations, permissions, resourceTypes, patternTypes, filterFields, userTags',
  ],
]

const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
}

/** 201 for POSTs that create (a collection, a token); 200 for actions (produce, purge, reset, login). */
function successStatus(method: string, path: string): string {
  if (method !== 'post' || path === '/session') return '200'
  return !path.includes('}/') || path.endsWith('/tokens') ? '201' : '200'
}

export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const [method, path, summary, list] of operations) {
    const pathParams = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }))
    const operation: Record<string, unknown> = {
      summary,
      parameters: [...pathParams, ...(list ? listParams : [])],
      responses: {
        [successStatus(method, path)]: {
          description: 'OK',
          content: { 'application/json': { schema: { type: 'object' } } },
        },
        default: {
          description: 'Error',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    }
    if (method === 'post' || method === 'put' || (method === 'delete' && path === '/bindings')) {
      operation.requestBody = { content: { 'application/json': { schema: { type: 'object' } } } }
    }
    paths[path] ??= {}
    paths[path]![method] = operation
  }
  return {
    openapi: '3.0.3',
    info: { title: 'Wharf admin API', version: '1' },
    servers: [{ url: '/api/v1' }],
    paths,
    // Any one of them; without credentials the anonymous principal applies where the server allows it.
    security: [{ basic: [] }, { bearer: [] }, { session: [] }],
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic', description: 'a user name and password' },
        bearer: { type: 'http', scheme: 'bearer', description: 'an API token (POST /users/{name}/tokens)' },
        session: { type: 'apiKey', in: 'cookie', name: 'wharf_session', description: 'dashboard login' },
      },
    },
  }
}
