// REST admin routes for identities (administrators only, auth/policy.ts): users (list, describe, create,
// change, delete) and their API tokens (list, create, delete; a user with any tag manages their own).
// Nothing secret is ever returned: users are their UserView (no password hash, no SCRAM keys, access key ids
// without secrets), tokens their id and name, except the token itself once, in the reply that creates it.
import type { FastifyReply } from 'fastify'
import type { AccessKey, UserChanges } from '../../../broker/security/users.js'
import type { SessionStore } from '../auth/sessions.js'
import { type AdminContext, bad, body, page, params, query, sendAdminError } from './context.js'

const USER_FIELDS = new Set(['name', 'password', 'tags', 'accessKeys', 'loopbackOnly'])

/** A user's fields from a request body, checked for shape (the user store checks the values). */
function userChanges(input: Record<string, unknown>): UserChanges {
  for (const key of Object.keys(input)) if (!USER_FIELDS.has(key)) throw bad(`unknown user field '${key}'`)
  const changes: UserChanges = {}
  if (input.password !== undefined) {
    if (typeof input.password !== 'string') throw bad('password must be a string')
    changes.password = input.password
  }
  if (input.tags !== undefined) {
    if (!Array.isArray(input.tags) || !input.tags.every((t) => typeof t === 'string'))
      throw bad('tags must be an array of strings')
    changes.tags = input.tags as string[]
  }
  if (input.accessKeys !== undefined) {
    const keys = input.accessKeys
    if (
      !Array.isArray(keys) ||
      !keys.every(
        (k) => k !== null && typeof k === 'object' && typeof k.id === 'string' && typeof k.secret === 'string',
      )
    )
      throw bad('accessKeys must be an array of {id, secret}')
    changes.accessKeys = (keys as AccessKey[]).map(({ id, secret }) => ({ id, secret }))
  }
  if (input.loopbackOnly !== undefined) {
    if (typeof input.loopbackOnly !== 'boolean') throw bad('loopbackOnly must be true or false')
    changes.loopbackOnly = input.loopbackOnly
  }
  return changes
}

function noUser(reply: FastifyReply, name: string): undefined {
  sendAdminError(reply, 404, 'USER_NOT_FOUND', `user '${name}' does not exist`)
  return undefined
}

export function registerUserRoutes({ broker, route }: AdminContext, sessions: SessionStore): void {
  const { users, tokens } = broker.security

  route('GET', '/users', (r) => page(users.list(), query(r), (u) => u.name))
  route('GET', '/users/:name', (r, reply) => users.view(params(r).name!) ?? noUser(reply, params(r).name!))
  route(
    'POST',
    '/users',
    async (r, reply) => {
      const input = body(r)
      if (typeof input.name !== 'string') throw bad('name is required')
      if (users.get(input.name) !== undefined)
        return sendAdminError(reply, 409, 'USER_EXISTS', `user '${input.name}' already exists`)
      return users.put(input.name, userChanges(input))
    },
    201,
  )
  route('PUT', '/users/:name', async (r) => {
    const name = params(r).name!
    const input = body(r)
    if (input.name !== undefined && input.name !== name) throw bad('the name in the body differs from the path')
    const changes = userChanges(input)
    const view = await users.put(name, changes)
    // A new password ends the sessions made with the old one.
    if (changes.password !== undefined) sessions.deleteUser(name)
    return view
  })
  route('DELETE', '/users/:name', async (r, reply) => {
    const name = params(r).name!
    if (!(await users.delete(name))) return noUser(reply, name)
    sessions.deleteUser(name)
    return { deleted: name, tokens: await tokens.deleteAll(name) }
  })

  route('GET', '/users/:name/tokens', (r, reply) => {
    const name = params(r).name!
    if (users.get(name) === undefined) return noUser(reply, name)
    const items = tokens.list(name)
    return { items, total: items.length }
  })
  route(
    'POST',
    '/users/:name/tokens',
    async (r, reply) => {
      const name = params(r).name!
      if (users.get(name) === undefined) return noUser(reply, name)
      const input = body(r)
      if (typeof input.name !== 'string') throw bad('name (what the token is for) is required')
      reply.header('cache-control', 'no-store')
      return tokens.create(name, input.name)
    },
    201,
  )
  route('DELETE', '/users/:name/tokens/:id', async (r, reply) => {
    const { name, id } = params(r) as { name: string; id: string }
    if (tokens.get(id)?.user !== name || !(await tokens.delete(id)))
      return sendAdminError(reply, 404, 'TOKEN_NOT_FOUND', `user '${name}' has no token '${id}'`)
    return { deleted: id }
  })
}
