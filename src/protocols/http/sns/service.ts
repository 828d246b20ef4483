// SNS over the query protocol: the action dispatch, and the topic and subscription actions over
// broker.topics (filter policies are compiled there). Publishing is publish.ts, errors errors.ts.
import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Broker } from '../../../broker/broker.js'
import type { Access } from '../../../broker/security/authorizer.js'
import type { SnsSubscription } from '../../../broker/topics/topics.js'
import type { Logger } from '../../../util/logger.js'
import type { AlarmSource } from '../../common/listener.js'
import { burstClock, ProtocolTraffic } from '../../common/metrics.js'
import type { AwsAuthenticator } from '../aws/authenticator.js'
import { ACCOUNT_ID, nameFromArn } from '../sqs/attributes.js'
import { authorize } from './authorization.js'
import { SNS_NAMESPACE, SnsError, sendQueryError, toSnsError } from './errors.js'
import { endpointOf, subscriptionId, topicArn, topicFromArn } from './names.js'
import { SnsPublisher } from './publish.js'
import { entries, flatMap, QueryParseError, responseXml, toXml, type XmlValue } from './query.js'

const LIST_PAGE = 100
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/

function bool(value: string, name: string): boolean {
  const lower = value.toLowerCase()
  if (lower !== 'true' && lower !== 'false')
    throw new SnsError(
      'InvalidParameter',
      `Invalid parameter: Attributes Reason: ${name}: Invalid value [${value}]. Must be true or false.`,
    )
  return lower === 'true'
}

export class SnsService {
  readonly #broker: Broker
  readonly #logger: Logger
  readonly #publisher: SnsPublisher
  readonly #auth: AwsAuthenticator
  readonly #alarms: AlarmSource | undefined
  readonly #traffic: ProtocolTraffic

  constructor(
    broker: Broker,
    logger: Logger,
    auth: AwsAuthenticator,
    alarms?: AlarmSource,
    traffic = new ProtocolTraffic('sns'),
  ) {
    this.#alarms = alarms
    this.#broker = broker
    this.#logger = logger
    this.#auth = auth
    this.#traffic = traffic
    this.#publisher = new SnsPublisher(broker, logger, traffic)
  }

  /**
   * One request: authenticated (SigV4), then authorized per action (authorization.ts), then run. `form` is
   * the request's fields (parseRequestForm, which the listener ran to tell SQS from SNS), or its parse error.
   */
  async handle(request: FastifyRequest, reply: FastifyReply, form: Map<string, string> | Error): Promise<FastifyReply> {
    const requestId = randomUUID()
    try {
      const access = await this.#auth.authenticate(request, 'sns')
      if (!(form instanceof Map))
        throw new SnsError('InvalidParameter', form instanceof QueryParseError ? form.message : 'malformed form body')
      const params = form
      const action = params.get('Action')
      // Own actions only: `Action=valueOf` must not reach Object.prototype.
      const handler = action === undefined || !Object.hasOwn(this.#actions, action) ? undefined : this.#actions[action]
      if (handler === undefined)
        throw new SnsError('InvalidAction', `The action ${String(action)} is not valid for this endpoint.`)
      authorize(action, params, access, (id) => this.#broker.topics.get(id)?.topic)
      const receivedAt = burstClock()
      const result = await handler(params, access)
      if (action === 'Publish' || action === 'PublishBatch') this.#traffic.publishToConfirm.since(receivedAt)
      return reply
        .code(200)
        .header('content-type', 'text/xml')
        .send(responseXml(SNS_NAMESPACE, action!, result, requestId))
    } catch (error) {
      let mapped = toSnsError(error)
      if (mapped === undefined) {
        this.#logger.error({ err: error, url: request.url }, 'sns action failed')
        mapped = new SnsError('InternalError', 'internal error')
      }
      return sendQueryError(reply, mapped.status, mapped.errorName, mapped.message)
    }
  }

  readonly #actions: Record<
    string,
    (params: Map<string, string>, access: Access) => Promise<string | null> | string | null
  > = {
    CreateTopic: (p) => this.createTopic(p),
    DeleteTopic: async (p) => {
      const name = topicFromArn(p.get('TopicArn'))
      await this.#broker.topics.deleteTopic(name)
      return null
    },
    ListTopics: (p, access) => {
      const visible = this.#broker.topics.listTopics().filter((n) => access.allows('Describe', 'Exchange', n))
      const { page, next } = paginate(visible.sort(), p.get('NextToken'))
      return toXml({ Topics: page.map((n) => ({ TopicArn: topicArn(n) })), NextToken: next })
    },
    GetTopicAttributes: (p) => {
      const name = topicFromArn(p.get('TopicArn'))
      const attributes = this.#broker.topics.topicAttributes(name)
      if (attributes === undefined) throw new SnsError('NotFound', 'Topic does not exist')
      const subs = this.#broker.topics.list(name).length
      return `<Attributes>${entries({ ...attributes, TopicArn: topicArn(name), Owner: ACCOUNT_ID, SubscriptionsConfirmed: String(subs), SubscriptionsPending: '0', SubscriptionsDeleted: '0' })}</Attributes>`
    },
    Subscribe: (p) => this.subscribe(p),
    Unsubscribe: async (p) => {
      await this.#broker.topics.unsubscribe(subscriptionId(p.get('SubscriptionArn')))
      return null
    },
    ListSubscriptions: (p, access) =>
      this.#listSubscriptions(
        this.#broker.topics.list().filter((sub) => access.allows('Describe', 'Exchange', sub.topic)),
        p,
      ),
    ListSubscriptionsByTopic: (p) => {
      const name = topicFromArn(p.get('TopicArn'))
      if (!this.#broker.topics.hasTopic(name)) throw new SnsError('NotFound', 'Topic does not exist')
      return this.#listSubscriptions(this.#broker.topics.list(name), p)
    },
    GetSubscriptionAttributes: (p) => {
      const sub = this.#broker.topics.get(subscriptionId(p.get('SubscriptionArn')))
      if (sub === undefined) throw new SnsError('NotFound', 'Subscription does not exist')
      return `<Attributes>${entries(this.#subscriptionAttributes(sub))}</Attributes>`
    },
    SetSubscriptionAttributes: async (p) => {
      const id = subscriptionId(p.get('SubscriptionArn'))
      const name = p.get('AttributeName')
      const value = p.get('AttributeValue') ?? ''
      if (name === 'RawMessageDelivery')
        await this.#broker.topics.setSubscriptionAttributes(id, { raw: bool(value, name) })
      else if (name === 'FilterPolicy')
        await this.#broker.topics.setSubscriptionAttributes(id, { filterPolicy: value === '' ? null : value })
      else if (name === 'FilterPolicyScope')
        await this.#broker.topics.setSubscriptionAttributes(id, { scope: scopeOf(value) })
      else throw new SnsError('InvalidParameter', `Invalid parameter: AttributeName ${String(name)}`)
      return null
    },
    Publish: (p) => this.#throttled(() => this.#publisher.publish(p)),
    PublishBatch: (p) => this.#throttled(() => this.#publisher.publishBatch(p)),
  }

  /** Under a memory or disk alarm publishes are throttled as AWS does (SDKs back off and retry); reads go on. */
  #throttled<T>(publish: () => Promise<T>): Promise<T> {
    const alarm = this.#alarms?.current()[0]
    if (alarm !== undefined) return Promise.reject(new SnsError('Throttled', `Rate exceeded: ${alarm.message}`))
    return publish()
  }

  async createTopic(params: Map<string, string>): Promise<string> {
    const name = params.get('Name') ?? ''
    const base = name.endsWith('.fifo') ? name.slice(0, -5) : name
    if (!TOPIC_NAME.test(base)) throw new SnsError('InvalidParameter', 'Invalid parameter: Topic Name')
    const attributes = flatMap(params, 'Attributes.entry')
    const fifo = attributes.FifoTopic?.toLowerCase() === 'true'
    if (fifo !== name.endsWith('.fifo'))
      throw new SnsError(
        'InvalidParameter',
        'Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.',
      )
    await this.#broker.topics.createTopic(name, attributes)
    return toXml({ TopicArn: topicArn(name) })
  }

  async subscribe(params: Map<string, string>): Promise<string> {
    const topic = topicFromArn(params.get('TopicArn'))
    const protocol = params.get('Protocol')
    if (protocol !== 'sqs')
      throw new SnsError(
        'InvalidParameter',
        `Invalid parameter: Protocol: only sqs subscriptions are supported, got ${String(protocol)}`,
      )
    const queue = nameFromArn(params.get('Endpoint') ?? '')
    if (queue === undefined) throw new SnsError('InvalidParameter', 'Invalid parameter: SQS endpoint ARN')
    const attributes = flatMap(params, 'Attributes.entry')
    for (const key of Object.keys(attributes)) {
      if (
        ![
          'RawMessageDelivery',
          'FilterPolicy',
          'FilterPolicyScope',
          'RedrivePolicy',
          'DeliveryPolicy',
          'SubscriptionRoleArn',
        ].includes(key)
      )
        throw new SnsError('InvalidParameter', `Invalid parameter: Attributes Reason: Unknown attribute ${key}`)
    }
    if (!this.#broker.topics.hasTopic(topic)) throw new SnsError('NotFound', 'Topic does not exist')
    const sub = await this.#broker.topics.subscribe({
      topic,
      destination: { kind: 'queue', name: queue },
      raw:
        attributes.RawMessageDelivery === undefined ? false : bool(attributes.RawMessageDelivery, 'RawMessageDelivery'),
      ...(attributes.FilterPolicy ? { filterPolicy: attributes.FilterPolicy } : {}),
      ...(attributes.FilterPolicyScope ? { scope: scopeOf(attributes.FilterPolicyScope) } : {}),
    })
    return toXml({ SubscriptionArn: `${topicArn(topic)}:${sub.id}` })
  }

  #subscriptionAttributes(sub: SnsSubscription): Record<string, string> {
    const out: Record<string, string> = {
      SubscriptionArn: `${topicArn(sub.topic)}:${sub.id}`,
      TopicArn: topicArn(sub.topic),
      Protocol: 'sqs',
      Endpoint: endpointOf(sub),
      Owner: ACCOUNT_ID,
      ConfirmationWasAuthenticated: 'true',
      PendingConfirmation: 'false',
      RawMessageDelivery: String(sub.raw),
    }
    if (sub.filterPolicyJson !== undefined) {
      out.FilterPolicy = sub.filterPolicyJson
      out.FilterPolicyScope = sub.scope
    }
    return out
  }

  #listSubscriptions(subs: SnsSubscription[], params: Map<string, string>): string {
    const sorted = [...subs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    const { page, next } = paginate(
      sorted.map((s) => s.id),
      params.get('NextToken'),
    )
    const byId = new Map(sorted.map((s) => [s.id, s]))
    const items: XmlValue[] = page.map((id) => {
      const s = byId.get(id)!
      return {
        SubscriptionArn: `${topicArn(s.topic)}:${s.id}`,
        Owner: ACCOUNT_ID,
        Protocol: 'sqs',
        Endpoint: endpointOf(s),
        TopicArn: topicArn(s.topic),
      }
    })
    return toXml({ Subscriptions: items, NextToken: next })
  }
}

function scopeOf(value: string): 'MessageAttributes' | 'MessageBody' {
  if (value !== 'MessageAttributes' && value !== 'MessageBody')
    throw new SnsError('InvalidParameter', `Invalid parameter: FilterPolicyScope: ${value}`)
  return value
}

function paginate(names: string[], token: string | undefined): { page: string[]; next: string | undefined } {
  let start = 0
  if (token !== undefined) {
    const after = Buffer.from(token, 'base64url').toString('utf8')
    start = names.findIndex((n) => n > after)
    if (start < 0) start = names.length
  }
  const page = names.slice(start, start + LIST_PAGE)
  const next =
    start + page.length < names.length ? Buffer.from(page[page.length - 1]!).toString('base64url') : undefined
  return { page, next }
}
