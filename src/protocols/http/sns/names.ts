// SNS names: topic and subscription ARNs (parsed with the errors AWS answers) and subscription endpoints.
import type { SnsSubscription } from '../../../broker/topics/topics.js'
import { ACCOUNT_ID, REGION } from '../sqs/attributes.js'
import { SnsError } from './errors.js'

export function topicArn(name: string): string {
  return `arn:aws:sns:${REGION}:${ACCOUNT_ID}:${name}`
}

export function topicFromArn(arn: string | undefined, field = 'TopicArn'): string {
  if (arn === undefined) throw new SnsError('InvalidParameter', `Invalid parameter: ${field}`)
  const parts = arn.split(':')
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'sns' || parts[5] === '')
    throw new SnsError(
      'InvalidParameter',
      `Invalid parameter: ${field} Reason: An ARN must have the format arn:aws:sns:region:account:name`,
    )
  return parts[5]!
}

export function subscriptionId(arn: string | undefined): string {
  if (arn === undefined) throw new SnsError('InvalidParameter', 'Invalid parameter: SubscriptionArn')
  const parts = arn.split(':')
  if (parts.length !== 7 || parts[2] !== 'sns')
    throw new SnsError(
      'InvalidParameter',
      'Invalid parameter: SubscriptionArn Reason: An ARN must have the format arn:aws:sns:region:account:topic:id',
    )
  return parts[6]!
}

export function endpointOf(sub: SnsSubscription): string {
  const d = sub.destination
  return 'name' in d ? `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${d.name}` : ''
}
