// A SEND with AMQ_SCHEDULED_PERIOD/REPEAT/CRON: a job of the broker's scheduler, which publishes each copy
// to the SEND's destination the way a SEND would (`/queue/X` through the default exchange, `/topic/X` to
// amq.topic). The SEND's receipt waits until the job is stored durably.
import type { PublishMessage } from '../../../broker/message.js'
import type { ScheduleJob } from '../wire/schedule.js'
import type { ConnectionCore } from './context.js'

export async function scheduleSend(
  c: ConnectionCore,
  exchange: string,
  routingKey: string,
  message: PublishMessage,
  job: ScheduleJob,
): Promise<void> {
  const { delayMs, ...copy } = message
  await c.broker.scheduler.add({
    exchange,
    routingKey,
    message: copy,
    delayMs: delayMs ?? 0,
    ...job,
  })
}
