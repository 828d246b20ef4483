// What each SQS action needs, as operations on Topic resources (an SQS queue is the stream of its name, so
// one ACL covers it over every protocol). One decision per resource per request, through the caller's
// Access, whose cache makes a repeated check a Map lookup. Every action SqsService runs has a row here; an
// action without one is refused as InvalidAction before anything runs.
//
//   SendMessage, SendMessageBatch                                  Write         Topic <queue>
//   ReceiveMessage, DeleteMessage(Batch),
//   ChangeMessageVisibility(Batch)                                 Read          Topic <queue>
//   CreateQueue                                                    Create        Topic <queue>
//   DeleteQueue, PurgeQueue                                        Delete        Topic <queue>
//   GetQueueAttributes                                             DescribeConfigs Topic <queue>
//   SetQueueAttributes                                             AlterConfigs  Topic <queue>
//   TagQueue, UntagQueue, AddPermission, RemovePermission          Alter         Topic <queue>
//   GetQueueUrl, ListQueueTags, ListDeadLetterSourceQueues,
//   ListMessageMoveTasks                                           Describe      Topic <queue>
//   ListQueues                                                     Describe      Topic, per queue: the list
//                                                                  shows only queues the caller may describe
//   StartMessageMoveTask, CancelMessageMoveTask                    Read on the source DLQ, and Write on the
//                                                                  destination (or on each queue whose
//                                                                  RedrivePolicy names the DLQ)
//   CreateQueue / SetQueueAttributes with a RedrivePolicy          also Write on the dead-letter queue, which
//                                                                  the new policy lets messages move into

import type { Operation } from '../../../broker/security/acls.js'
import type { Access } from '../../../broker/security/authorizer.js'
import { principalArn } from '../aws/authenticator.js'
import { nameFromArn, parseRedrivePolicy, queueArn, validateQueueName } from './attributes.js'
import { deadLetterSources } from './dead-letters.js'
import { SqsError } from './errors.js'
import type { Input, SqsState } from './state.js'

/** An operation on a queue, and the IAM action AWS would name in a denial. */
type Check = readonly [operation: Operation, queue: string, iamAction: string]

type Rule = (input: Input, s: SqsState, action: string) => Check[]

/** The queue a QueueUrl names (its last path segment), without checking that it exists. */
export function queueOfUrl(input: Input): string {
  const url = input.QueueUrl
  if (typeof url !== 'string' || url === '')
    throw new SqsError('MissingParameter', 'The request must contain the parameter QueueUrl.')
  const path = url.split('?')[0]!.replace(/\/+$/, '')
  return path.slice(path.lastIndexOf('/') + 1)
}

function queueOfArn(arn: unknown, field: string): string {
  if (typeof arn !== 'string')
    throw new SqsError('MissingParameter', `The request must contain the parameter ${field}.`)
  const name = nameFromArn(arn)
  if (name === undefined) throw new SqsError('InvalidParameterValue', `Value ${arn} for parameter ${field} is invalid.`)
  return name
}

/** The IAM action of a batch is its single-message one, as AWS reports it. */
function iamAction(action: string): string {
  return action.endsWith('Batch') ? action.slice(0, -5) : action
}

const onQueue =
  (operation: Operation): Rule =>
  (input, _s, action) => [[operation, queueOfUrl(input), iamAction(action)]]

/** Write on the dead-letter queue a RedrivePolicy in `attributes` names (validation proper is the action's). */
function redriveTarget(attributes: unknown): Check[] {
  if (attributes === null || typeof attributes !== 'object') return []
  const policy = (attributes as Record<string, unknown>).RedrivePolicy
  if (typeof policy !== 'string' || policy === '') return []
  return [['Write', parseRedrivePolicy(policy).deadLetterQueue, 'SendMessage']]
}

/** The source queue a move task handle was issued for (dead-letters.ts encodes it); undefined if it is not one. */
function sourceOfHandle(handle: unknown): string | undefined {
  if (typeof handle !== 'string') return undefined
  try {
    const decoded = JSON.parse(Buffer.from(handle, 'base64url').toString('utf8')) as { source?: unknown }
    return typeof decoded.source === 'string' ? decoded.source : undefined
  } catch {
    return undefined
  }
}

function moveChecks(s: SqsState, source: string, destination: string | undefined, action: string): Check[] {
  const targets = destination === undefined ? deadLetterSources(s, source) : [destination]
  return [['Read', source, action], ...targets.map((t): Check => ['Write', t, 'SendMessage'])]
}

const rules: Record<string, Rule> = {
  SendMessage: onQueue('Write'),
  SendMessageBatch: onQueue('Write'),
  ReceiveMessage: onQueue('Read'),
  DeleteMessage: onQueue('Read'),
  DeleteMessageBatch: onQueue('Read'),
  ChangeMessageVisibility: onQueue('Read'),
  ChangeMessageVisibilityBatch: onQueue('Read'),
  CreateQueue: (i, _s, a) => [['Create', validateQueueName(i.QueueName), a], ...redriveTarget(i.Attributes)],
  DeleteQueue: onQueue('Delete'),
  PurgeQueue: onQueue('Delete'),
  GetQueueAttributes: onQueue('DescribeConfigs'),
  SetQueueAttributes: (i, _s, a) => [['AlterConfigs', queueOfUrl(i), a], ...redriveTarget(i.Attributes)],
  TagQueue: onQueue('Alter'),
  UntagQueue: onQueue('Alter'),
  AddPermission: onQueue('Alter'),
  RemovePermission: onQueue('Alter'),
  ListQueueTags: onQueue('Describe'),
  GetQueueUrl: (i, _s, a) => {
    if (typeof i.QueueName !== 'string')
      throw new SqsError('MissingParameter', 'The request must contain the parameter QueueName.')
    return [['Describe', i.QueueName, a]]
  },
  ListQueues: () => [],
  ListDeadLetterSourceQueues: onQueue('Describe'),
  ListMessageMoveTasks: (i, _s, a) => [['Describe', queueOfArn(i.SourceArn, 'SourceArn'), a]],
  StartMessageMoveTask: (i, s, a) =>
    moveChecks(
      s,
      queueOfArn(i.SourceArn, 'SourceArn'),
      i.DestinationArn === undefined ? undefined : queueOfArn(i.DestinationArn, 'DestinationArn'),
      a,
    ),
  CancelMessageMoveTask: (i, s, a) => {
    // An unknown handle names no task: the action answers ResourceNotFoundException.
    const source = sourceOfHandle(i.TaskHandle)
    if (source === undefined) return []
    const task = s.moveTasks.find((t) => t.handle === i.TaskHandle)
    return moveChecks(s, source, task?.destination, a)
  },
}

/** Throws AccessDenied (or the action's own validation error) unless `access` allows the action. */
export function authorize(s: SqsState, action: string, input: Input, access: Access): void {
  const rule = rules[action]
  if (rule === undefined) throw new SqsError('InvalidAction', `The action ${action} is not valid for this endpoint.`)
  for (const [operation, queue, iam] of rule(input, s, action)) {
    if (!access.allows(operation, 'Topic', queue))
      throw new SqsError(
        'AccessDenied',
        `User: ${principalArn(access.principal)} is not authorized to perform: sqs:${iam.toLowerCase()} on resource: ${queueArn(queue)}`,
      )
  }
}
