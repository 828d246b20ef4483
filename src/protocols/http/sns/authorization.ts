// What each SNS action needs, as operations on Exchange resources (an SNS topic is authorized as an exchange
// of its name; one rule covers both). One decision per resource per request through the caller's Access.
// Every action SnsService runs has a row here; an action without one is refused as InvalidAction.
//
//   Publish, PublishBatch                                   Write     Exchange <topic>
//   CreateTopic                                             Create    Exchange <topic>
//   DeleteTopic                                             Delete    Exchange <topic>
//   Subscribe                                               Alter     Exchange <topic>, and Write Topic <queue>:
//                                                           the subscription makes the topic send into the
//                                                           endpoint queue, which the caller must be allowed to do
//   Unsubscribe, SetSubscriptionAttributes                  Alter     Exchange <topic of the subscription>
//   GetTopicAttributes, ListSubscriptionsByTopic,
//   GetSubscriptionAttributes                               Describe  Exchange <topic>
//   ListTopics, ListSubscriptions                           Describe  Exchange, per topic: lists show only
//                                                           what the caller may describe
import type { Operation, ResourceType } from '../../../broker/security/acls.js'
import type { Access } from '../../../broker/security/authorizer.js'
import { principalArn } from '../aws/authenticator.js'
import { nameFromArn, queueArn } from '../sqs/attributes.js'
import { SnsError } from './errors.js'
import { subscriptionId, topicArn, topicFromArn } from './names.js'

type Check = readonly [operation: Operation, type: ResourceType, name: string, iamAction: string]
/** The topic a subscription id belongs to, if it exists. */
export type SubscriptionTopics = (id: string) => string | undefined
type Rule = (params: Map<string, string>, action: string, subscriptions: SubscriptionTopics) => Check[]

/**
 * The topic a subscription ARN (`arn:aws:sns:region:account:topic:id`) names. The actions find the
 * subscription by id alone, so the topic is the subscription's own; the ARN's topic part counts only for an
 * id that does not exist (the action then fails on its own).
 */
function topicOfSubscription(arn: string | undefined, subscriptions: SubscriptionTopics): string {
  const id = subscriptionId(arn)
  return subscriptions(id) ?? arn!.split(':')[5]!
}

const onTopic =
  (operation: Operation, iamAction?: string): Rule =>
  (p, action) => [[operation, 'Exchange', topicFromArn(p.get('TopicArn')), iamAction ?? action]]

const onSubscription =
  (operation: Operation): Rule =>
  (p, action, subscriptions) => [
    [operation, 'Exchange', topicOfSubscription(p.get('SubscriptionArn'), subscriptions), action],
  ]

const rules: Record<string, Rule> = {
  Publish: (p, a) => [['Write', 'Exchange', topicFromArn(p.get('TopicArn') ?? p.get('TargetArn')), a]],
  PublishBatch: onTopic('Write', 'Publish'),
  CreateTopic: (p, a) => {
    const name = p.get('Name')
    if (name === undefined || name === '') throw new SnsError('InvalidParameter', 'Invalid parameter: Topic Name')
    return [['Create', 'Exchange', name, a]]
  },
  DeleteTopic: onTopic('Delete'),
  GetTopicAttributes: onTopic('Describe'),
  ListSubscriptionsByTopic: onTopic('Describe'),
  Subscribe: (p, a) => {
    const checks: Check[] = [['Alter', 'Exchange', topicFromArn(p.get('TopicArn')), a]]
    // A malformed endpoint is the action's InvalidParameter; there is no queue to check yet.
    const queue = nameFromArn(p.get('Endpoint') ?? '')
    if (p.get('Protocol') === 'sqs' && queue !== undefined) checks.push(['Write', 'Topic', queue, a])
    return checks
  },
  Unsubscribe: onSubscription('Alter'),
  SetSubscriptionAttributes: onSubscription('Alter'),
  GetSubscriptionAttributes: onSubscription('Describe'),
  ListTopics: () => [],
  ListSubscriptions: () => [],
}

/** Throws AuthorizationError (SNS's access-denied error) or the action's validation error unless allowed. */
export function authorize(
  action: string | undefined,
  params: Map<string, string>,
  access: Access,
  subscriptions: SubscriptionTopics,
): void {
  const rule = action === undefined ? undefined : rules[action]
  if (rule === undefined)
    throw new SnsError('InvalidAction', `The action ${String(action)} is not valid for this endpoint.`)
  for (const [operation, type, name, iam] of rule(params, action!, subscriptions)) {
    if (!access.allows(operation, type, name))
      throw new SnsError(
        'AuthorizationError',
        `User: ${principalArn(access.principal)} is not authorized to perform: SNS:${iam} on resource: ${type === 'Topic' ? queueArn(name) : topicArn(name)}`,
      )
  }
}
