// REST admin endpoints for SNS-style topics: GET /api/v1/topics (paged, with subscription counts) and
// GET /api/v1/topics/:name (attributes and subscriptions with their filter policies; ACL: Describe on the
// Exchange of that name, the resource SNS topics are).
import { type AdminContext, page, params, query, sendAdminError } from './context.js'

function destinationName(d: { kind: string; name?: string; id?: string }): string {
  return d.name ?? d.id ?? ''
}

export function registerTopicRoutes({ broker, route, authorize }: AdminContext): void {
  route('GET', '/topics', (r) => {
    const paged = page(broker.topics.listTopics(), query(r), (n) => n)
    return {
      ...paged,
      items: paged.items.map((name) => ({ name, subscriptions: broker.topics.list(name).length })),
    }
  })

  route('GET', '/topics/:name', (r, reply) => {
    const name = params(r).name!
    authorize(r, 'Describe', 'Exchange', name)
    // Topics have no broker error code of their own: a missing one is a plain 404.
    if (!broker.topics.hasTopic(name)) return sendAdminError(reply, 404, 'NOT_FOUND', `topic '${name}' does not exist`)
    return {
      name,
      attributes: broker.topics.topicAttributes(name) ?? {},
      subscriptions: broker.topics.list(name).map((s) => ({
        id: s.id,
        destination: { kind: s.destination.kind, name: destinationName(s.destination as { kind: string }) },
        raw: s.raw,
        filterPolicy: s.filterPolicyJson ?? null,
      })),
    }
  })
}
