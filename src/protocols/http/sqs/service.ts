// The SQS actions over the broker. Inputs are the decoded JSON 1.0 request bodies (PascalCase, as the
// SDK sends them); outputs are the reply objects. An SQS queue is a broker queue (own stream, queue-mode
// subscription) plus a catalog record with the SQS-only attributes; only queues with that record are
// visible here, so AMQP/MQTT queues do not show up in ListQueues. The actions themselves live per area:
// queues.ts (lifecycle, attributes, tags), send.ts, receive.ts, settle.ts (delete, visibility) and
// dead-letters.ts (DLQ sources, move tasks); this class owns their shared state and dispatches.

import type { FastifyRequest } from 'fastify'
import type { Broker } from '../../../broker/broker.js'
import type { Access } from '../../../broker/security/authorizer.js'
import type { Logger } from '../../../util/logger.js'
import type { AlarmSource } from '../../common/listener.js'
import { burstClock, ProtocolTraffic } from '../../common/metrics.js'
import type { AwsAuthenticator } from '../aws/authenticator.js'
import { KIND_SQS_QUEUE, type SqsQueueRecord } from './attributes.js'
import { authorize } from './authorization.js'
import * as deadLetters from './dead-letters.js'
import { SqsError } from './errors.js'
import type { ReceiptHandles } from './message-codec.js'
import { originOf, type QueueUrlBase } from './origin.js'
import * as queues from './queues.js'
import { receiveMessage } from './receive.js'
import { sendMessage, sendMessageBatch } from './send.js'
import { changeVisibility, changeVisibilityBatch, deleteMessage, deleteMessageBatch } from './settle.js'
import { type Input, mapError, type Output, queueUrl, type RequestContext, type SqsState } from './state.js'

export type { RequestContext } from './state.js'

/** Actions that add messages: refused while a resource alarm is on; reads, deletes and settles go on. */
const PUBLISHING = new Set(['SendMessage', 'SendMessageBatch'])

/** Under a memory or disk alarm publishers are throttled as AWS throttles: SDKs back off and retry. */
function throttleUnderAlarm(alarms: AlarmSource | undefined): void {
  const alarm = alarms?.current()[0]
  if (alarm !== undefined) throw new SqsError('RequestThrottled', `Request throttled: ${alarm.message}`)
}

export class SqsService {
  readonly #state: SqsState
  readonly #auth: AwsAuthenticator

  readonly #urlBase: QueueUrlBase
  readonly #alarms: AlarmSource | undefined

  constructor(
    broker: Broker,
    handles: ReceiptHandles,
    logger: Logger,
    options: {
      auth: AwsAuthenticator
      urlBase?: QueueUrlBase
      alarms?: AlarmSource | undefined
      traffic?: ProtocolTraffic
    },
  ) {
    this.#urlBase = options.urlBase ?? { host: '' }
    this.#alarms = options.alarms
    this.#auth = options.auth
    this.#state = {
      broker,
      records: broker.catalog<SqsQueueRecord>(KIND_SQS_QUEUE),
      handles,
      logger,
      firstReceive: new Map(),
      moveTasks: [],
      traffic: options.traffic ?? new ProtocolTraffic('sqs'),
    }
  }

  /** Origin of the queue URLs this request is answered with (configured, else the address it came in on). */
  origin(request: FastifyRequest): string {
    return originOf(request, this.#urlBase)
  }

  /** The caller's authorizer (SigV4 and the anonymous policy); throws the AWS error as an SqsError. */
  async authenticate(request: FastifyRequest): Promise<Access> {
    try {
      return await this.#auth.authenticate(request, 'sqs')
    } catch (error) {
      throw mapError(this.#state, error, 'authenticate')
    }
  }

  /** Runs one action if the caller may; every failure comes back as an SqsError. */
  async call(action: string, input: Input, context: RequestContext): Promise<Output> {
    // Own actions only: `Action=toString` must not reach Object.prototype.
    const handler = Object.hasOwn(this.#actions, action) ? this.#actions[action] : undefined
    if (handler === undefined)
      throw new SqsError('InvalidAction', `The action ${action} is not valid for this endpoint.`)
    try {
      authorize(this.#state, action, input, context.access)
      if (!PUBLISHING.has(action)) return await handler(input, context)
      throttleUnderAlarm(this.#alarms)
      const receivedAt = burstClock()
      const output = await handler(input, context)
      this.#state.traffic.publishToConfirm.since(receivedAt)
      return output
    } catch (error) {
      throw mapError(this.#state, error, action)
    }
  }

  readonly #actions: Record<string, (input: Input, context: RequestContext) => Promise<Output>> = {
    CreateQueue: (i, c) => queues.createQueue(this.#state, i, c),
    GetQueueUrl: async (i, c) => queues.getQueueUrl(this.#state, i, c),
    ListQueues: async (i, c) => queues.listQueues(this.#state, i, c),
    DeleteQueue: (i) => queues.deleteQueue(this.#state, i),
    GetQueueAttributes: async (i) => queues.getQueueAttributes(this.#state, i),
    SetQueueAttributes: (i) => queues.setQueueAttributes(this.#state, i),
    TagQueue: (i) => queues.tagQueue(this.#state, i),
    UntagQueue: (i) => queues.untagQueue(this.#state, i),
    ListQueueTags: async (i) => queues.listQueueTags(this.#state, i),
    PurgeQueue: (i) => queues.purgeQueue(this.#state, i),
    SendMessage: (i) => sendMessage(this.#state, i),
    SendMessageBatch: (i) => sendMessageBatch(this.#state, i),
    ReceiveMessage: (i, c) => receiveMessage(this.#state, i, c),
    DeleteMessage: (i) => deleteMessage(this.#state, i),
    DeleteMessageBatch: (i) => deleteMessageBatch(this.#state, i),
    ChangeMessageVisibility: async (i) => changeVisibility(this.#state, i),
    ChangeMessageVisibilityBatch: async (i) => changeVisibilityBatch(this.#state, i),
    ListDeadLetterSourceQueues: async (i, c) => deadLetters.listDeadLetterSourceQueues(this.#state, i, c),
    StartMessageMoveTask: async (i) => deadLetters.startMessageMoveTask(this.#state, i),
    ListMessageMoveTasks: async (i) => deadLetters.listMessageMoveTasks(this.#state, i),
    CancelMessageMoveTask: async (i) => deadLetters.cancelMessageMoveTask(this.#state, i),
    AddPermission: async (i) => queues.permissionNoop(this.#state, i),
    RemovePermission: async (i) => queues.permissionNoop(this.#state, i),
  }

  queueUrl(origin: string, name: string): string {
    return queueUrl(origin, name)
  }

  /** Names of the queues SQS manages (for metrics and SNS). */
  isSqsQueue(name: string): boolean {
    const { broker, records } = this.#state
    return records.get(name) !== undefined && broker.getQueue(name) !== undefined
  }

  /** Queues whose RedrivePolicy targets `name`. */
  deadLetterSources(name: string): string[] {
    return deadLetters.deadLetterSources(this.#state, name)
  }

  /** Redrives a DLQ (to `destination`, or to where each message died); the REST admin API's redrive. */
  moveMessages(source: string, destination: string | undefined): Promise<number> {
    return deadLetters.moveMessages(this.#state, source, destination)
  }
}
