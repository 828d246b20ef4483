// `wharf users add|list|delete|passwd` and `wharf acls add|list|delete`, through the REST admin API like the
// other admin verbs (an administrator's credentials, or anonymous on a zero-config loopback broker).
// A new password comes from stdin (--password-stdin) or --new-password; it is never printed or echoed.
import type { Command } from 'commander'
import { api, CliError, enc, type Json, listAll, print, readStdin, type Target, withUrl } from './client.js'

interface PasswordOptions {
  passwordStdin?: boolean
  newPassword?: string
}

/** The new password from the options, or undefined when none was given. */
async function newPassword(o: PasswordOptions): Promise<string | undefined> {
  if (o.passwordStdin && o.newPassword !== undefined) throw new CliError('give --password-stdin or --new-password')
  if (o.newPassword !== undefined) return o.newPassword
  if (!o.passwordStdin) return undefined
  // One line: a trailing newline (echo, a here-string) is not part of the password.
  const password = (await readStdin()).replace(/\r?\n$/, '')
  if (password === '') throw new CliError('no password on stdin')
  if (password.includes('\n')) throw new CliError('the password on stdin must be one line')
  return password
}

function withPassword(command: Command): Command {
  return command
    .option('--password-stdin', "read the user's new password from stdin (one line)")
    .option('--new-password <password>', "the user's new password (visible to `ps`; prefer --password-stdin)")
}

function accessKey(value: string, previous: Array<{ id: string; secret: string }> = []) {
  const at = value.indexOf(':')
  if (at <= 0) throw new CliError(`an access key is ID:SECRET, got '${value.slice(0, 20)}'`)
  return [...previous, { id: value.slice(0, at), secret: value.slice(at + 1) }]
}

function userLine(u: Json): string {
  const tags = u.tags.length > 0 ? u.tags.join(',') : '-'
  const keys = u.accessKeyIds.length > 0 ? u.accessKeyIds.join(',') : '-'
  return `${u.name}\ttags=${tags}\taccessKeys=${keys}${u.loopbackOnly ? '\tloopbackOnly' : ''}`
}

function registerUserCommands(program: Command): void {
  const users = program.command('users').description('manage users (administrators)')
  withUrl(
    withPassword(
      users
        .command('add <name>')
        .description('create a user')
        .option('--tags <tags>', 'comma-separated: administrator, management, monitoring')
        .option('--access-key <id:secret>', 'an AWS-style access key for SQS/SNS (repeatable)', accessKey)
        .option('--loopback-only', 'the user may log in only from this machine'),
    ),
  ).action(async (name: string, o) => {
    const password = await newPassword(o)
    await api(o, 'POST', '/users', {
      name,
      ...(password === undefined ? {} : { password }),
      ...(o.tags === undefined ? {} : { tags: (o.tags as string).split(',').filter((t) => t !== '') }),
      ...(o.accessKey === undefined ? {} : { accessKeys: o.accessKey }),
      ...(o.loopbackOnly ? { loopbackOnly: true } : {}),
    })
    print(`created user ${name}`)
  })
  withUrl(users.command('list').description('list users (never their secrets)').option('--json', 'print JSON')).action(
    async (o) => {
      const items = await listAll(o, '/users', undefined)
      if (o.json) return print(items)
      for (const user of items) print(userLine(user))
    },
  )
  withUrl(users.command('delete <name>').description('delete a user with its API tokens')).action(async (name, o) => {
    await api(o, 'DELETE', `/users/${enc(name)}`)
    print(`deleted user ${name}`)
  })
  withUrl(withPassword(users.command('passwd <name>').description("set a user's password"))).action(
    async (name: string, o) => {
      const password = await newPassword(o)
      if (password === undefined) throw new CliError('give the new password with --password-stdin or --new-password')
      // PUT creates a missing user: check first, so a typo does not make a new account.
      await api(o, 'GET', `/users/${enc(name)}`)
      await api(o, 'PUT', `/users/${enc(name)}`, { password })
      print(`changed the password of ${name}`)
    },
  )
}

const FILTER_OPTIONS = [
  ['principal', '--principal <principal>', 'User:name or User:*'],
  ['host', '--host <host>', 'client address or *'],
  ['operation', '--operation <operation>', 'Read, Write, Create, Delete, Alter, Describe, All, ...'],
  ['permission', '--permission <permission>', 'Allow or Deny'],
  ['resourceType', '--resource-type <type>', 'Topic, Group, Cluster, TransactionalId, Exchange, MqttTopic'],
  ['resourceName', '--resource-name <name>', 'the resource name (or prefix)'],
  ['patternType', '--pattern-type <type>', 'Literal or Prefixed (filters: also Match)'],
] as const

function withRuleOptions(command: Command): Command {
  for (const [, flag, description] of FILTER_OPTIONS) command.option(flag, description)
  return command
}

function ruleOf(o: Json): Record<string, string> {
  const rule: Record<string, string> = {}
  for (const [key] of FILTER_OPTIONS) if (typeof o[key] === 'string') rule[key] = o[key]
  return rule
}

function filterQuery(o: Json): string {
  const params = new URLSearchParams(ruleOf(o)).toString()
  return params === '' ? '' : `?${params}`
}

function ruleLine(r: Json): string {
  return `${r.permission}\t${r.principal}\t${r.host}\t${r.operation}\t${r.resourceType}:${r.resourceName}\t${r.patternType}`
}

function registerAclCommands(program: Command): void {
  const acls = program.command('acls').description('manage ACL rules (administrators)')
  withUrl(
    withRuleOptions(acls.command('add').description('add a rule (permission Allow and host * unless given)')),
  ).action(async (o) => {
    const rule = ruleOf(o)
    for (const key of ['principal', 'operation', 'resourceType', 'resourceName'])
      if (rule[key] === undefined)
        throw new CliError(`acls add needs --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)
    const result = await api(o as Target, 'POST', '/acls', rule)
    print(result.added === 0 ? 'the rule exists already' : `added ${ruleLine(result.acls[0])}`)
  })
  withUrl(
    withRuleOptions(acls.command('list').description('list rules (options filter)').option('--json', 'print JSON')),
  ).action(async (o) => {
    const { items } = await api(o as Target, 'GET', `/acls${filterQuery(o)}`)
    if (o.json) return print(items)
    for (const rule of items) print(ruleLine(rule))
  })
  withUrl(
    withRuleOptions(acls.command('delete').description('delete the rules the options select (at least one)')),
  ).action(async (o) => {
    if (Object.keys(ruleOf(o)).length === 0) throw new CliError('acls delete needs at least one filter option')
    const { deleted } = await api(o as Target, 'DELETE', `/acls${filterQuery(o)}`)
    for (const rule of deleted) print(`deleted ${ruleLine(rule)}`)
    if (deleted.length === 0) print('no rule matched')
  })
}

export function registerSecurityCommands(program: Command): void {
  registerUserCommands(program)
  registerAclCommands(program)
}
