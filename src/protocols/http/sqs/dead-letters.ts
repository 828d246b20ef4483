// Dead-letter queues: ListDeadLetterSourceQueues, and the message move tasks (Start/List/Cancel
// MessageMoveTask) that redrive a DLQ back to its sources. Tasks run in the background and are kept in
// memory only (the newest MOVE_TASKS_MAX), as their status is only of interest while the broker runs.
import { randomUUID } from 'node:crypto'
import { Reserved } from '../../../broker/message.js'
import { parseDeaths } from '../../../broker/queue/dead-letter.js'
import { nameFromArn, parseRedrivePolicy, queueArn } from './attributes.js'
import { SqsError } from './errors.js'
import { messageIdOf } from './message-codec.js'
import { BATCH_MAX, intParam, page } from './params.js'
import {
  type Input,
  type MoveTask,
  type Output,
  queueNameOf,
  queueUrl,
  type RequestContext,
  recordOf,
  type SqsState,
  sqsQueueNames,
} from './state.js'

const MOVE_TASKS_MAX = 100

/** Queues whose RedrivePolicy targets `name`. */
export function deadLetterSources(s: SqsState, name: string): string[] {
  return sqsQueueNames(s).filter((n) => {
    const policy = s.records.get(n)?.attributes.RedrivePolicy
    return policy !== undefined && policy !== '' && parseRedrivePolicy(policy).deadLetterQueue === name
  })
}

export function listDeadLetterSourceQueues(s: SqsState, input: Input, context: RequestContext): Output {
  const name = queueNameOf(s, input)
  const visible = deadLetterSources(s, name).filter((n) => context.access.allows('Describe', 'Topic', n))
  return page(visible, input, (n) => queueUrl(context.origin, n), 'queueUrls')
}

function arnQueue(s: SqsState, arn: unknown, field: string): string {
  if (typeof arn !== 'string')
    throw new SqsError('MissingParameter', `The request must contain the parameter ${field}.`)
  const name = nameFromArn(arn)
  if (name === undefined) throw new SqsError('InvalidParameterValue', `Value ${arn} for parameter ${field} is invalid.`)
  recordOf(s, name)
  return name
}

export function startMessageMoveTask(s: SqsState, input: Input): Output {
  const source = arnQueue(s, input.SourceArn, 'SourceArn')
  const destination =
    input.DestinationArn === undefined ? undefined : arnQueue(s, input.DestinationArn, 'DestinationArn')
  if (deadLetterSources(s, source).length === 0) {
    throw new SqsError('InvalidParameterValue', 'Source queue must be configured as a Dead Letter Queue.')
  }
  if (s.moveTasks.some((t) => t.source === source && t.status === 'RUNNING')) {
    throw new SqsError(
      'UnsupportedOperation',
      'There is already a task running. Only one active task is allowed for a source queue arn at a given time.',
    )
  }
  const task: MoveTask = {
    handle: Buffer.from(JSON.stringify({ source, id: randomUUID() })).toString('base64url'),
    source,
    destination,
    status: 'RUNNING',
    moved: 0,
    toMove: s.broker.queueStats(source).ready,
    started: Date.now(),
  }
  s.moveTasks.unshift(task)
  if (s.moveTasks.length > MOVE_TASKS_MAX) s.moveTasks.pop()
  void moveMessages(s, source, destination, task).catch((error) => {
    task.status = 'FAILED'
    task.failureReason = String((error as Error).message)
  })
  return { TaskHandle: task.handle }
}

/**
 * Moves dead-lettered messages back (to `destination`, or to the queue each one died in): read with a
 * lease, re-send, then ack, so a crash in between duplicates rather than loses a message. Shared with
 * the REST admin API's redrive.
 */
export async function moveMessages(
  s: SqsState,
  source: string,
  destination: string | undefined,
  task?: MoveTask,
): Promise<number> {
  let moved = 0
  for (;;) {
    if (task?.status === 'CANCELLING') {
      task.status = 'CANCELLED'
      return moved
    }
    const deliveries = await s.broker.get(source, { owner: 'sqs-move', max: BATCH_MAX, leaseMs: 60_000 })
    if (deliveries.length === 0) break
    for (const d of deliveries) {
      const target = destination ?? parseDeaths(d.message)[0]?.queue
      if (target === undefined || s.broker.getQueue(target) === undefined) {
        for (const rest of deliveries) s.broker.deliveries.extend(rest, 0)
        throw new SqsError('ResourceNotFoundException', `No destination queue for message ${messageIdOf(d.message)}`)
      }
      const headers = d.message.headers.filter(
        (h) =>
          h.key !== Reserved.deaths &&
          h.key !== Reserved.deliverAt &&
          h.key !== Reserved.expiresAt &&
          h.key !== Reserved.dedupId,
      )
      await s.broker.sendToQueue(target, [
        { key: d.message.key, value: d.message.value, headers, timestamp: d.message.timestamp },
      ])
      await s.broker.deliveries.ack(d)
      moved++
      if (task) task.moved = moved
    }
  }
  if (task) task.status = 'COMPLETED'
  return moved
}

export function listMessageMoveTasks(s: SqsState, input: Input): Output {
  const source = arnQueue(s, input.SourceArn, 'SourceArn')
  const max = input.MaxResults === undefined ? 1 : intParam(input.MaxResults, 'MaxResults', 1, 10)
  const results = s.moveTasks
    .filter((t) => t.source === source)
    .slice(0, max)
    .map((t) => {
      const out: Output = {
        Status: t.status,
        SourceArn: queueArn(t.source),
        ApproximateNumberOfMessagesMoved: t.moved,
        ApproximateNumberOfMessagesToMove: t.toMove,
        StartedTimestamp: t.started,
      }
      if (t.status === 'RUNNING') out.TaskHandle = t.handle
      if (t.destination !== undefined) out.DestinationArn = queueArn(t.destination)
      if (t.failureReason !== undefined) out.FailureReason = t.failureReason
      return out
    })
  return { Results: results }
}

export function cancelMessageMoveTask(s: SqsState, input: Input): Output {
  const task = s.moveTasks.find((t) => t.handle === input.TaskHandle)
  if (task === undefined) throw new SqsError('ResourceNotFoundException', 'Task does not exist.')
  if (task.status !== 'RUNNING') throw new SqsError('UnsupportedOperation', `Task is in ${task.status} state.`)
  task.status = 'CANCELLING'
  return { ApproximateNumberOfMessagesMoved: task.moved }
}
