// Builders the admin verbs share: the `list`, `describe` and `create` subcommands of a resource group
// (topics, queues, exchanges, ...) and option value parsers.
import { type Command, InvalidArgumentError } from 'commander'
import { api, enc, type Json, listAll, print, printItems, withUrl } from './client.js'

export function positiveInt(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer')
  return n
}

/** `<group> list`: every item under path, as JSON or one line each. */
export function listCommand(group: Command, description: string, path: string, line: (item: Json) => string): void {
  withUrl(
    group
      .command('list')
      .description(description)
      .option('-q, --filter <text>', 'name contains')
      .option('--json', 'print JSON'),
  ).action(async (o) => {
    printItems(await listAll(o, path, o.filter), o.json, line)
  })
}

/** `<group> describe <name>`: the item's admin API document. */
export function describeCommand(group: Command, description: string, path: string): void {
  withUrl(group.command('describe <name>').description(description)).action(async (name, o) =>
    print(await api(o, 'GET', `${path}/${enc(name)}`)),
  )
}

/**
 * `<group> create <name>`: POSTs `{name, ...config(options)}` to path; settings left undefined are not sent
 * (JSON.stringify drops them), so the broker applies its defaults.
 */
export function createCommand(
  group: Command,
  kind: string,
  path: string,
  options: (command: Command) => Command,
  config: (options: Json) => Record<string, unknown>,
): void {
  withUrl(options(group.command('create <name>').description(`create a ${kind}`))).action(async (name, o) => {
    await api(o, 'POST', path, { name, ...config(o) })
    print(`created ${kind} ${name}`)
  })
}
