// `wharf definitions export [FILE]` and `wharf definitions import FILE`: the broker's topology, users (their
// hashed credentials, never a plain password), ACL rules and schemas as one JSON document (as RabbitMQ's
// definitions), through GET/POST /api/v1/definitions. Import creates what is missing and leaves what exists,
// so it can run twice. The file holds credentials: it is written readable by its owner only.
import { readFile, writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { api, CliError, type Json, print, readStdin, withUrl } from './client.js'

const KINDS = ['streams', 'queues', 'exchanges', 'bindings', 'users', 'acls', 'schemas'] as const

function summary(document: Json): string {
  return KINDS.map((k) => `${(document[k] ?? []).length} ${k}`).join(', ')
}

export function registerDefinitionCommands(program: Command): void {
  const definitions = program
    .command('definitions')
    .description('export or import topology, users, ACLs and schemas as one JSON file (administrators)')
  withUrl(
    definitions
      .command('export [file]')
      .description('write the definitions to FILE (mode 0600), or to stdout without one or with -'),
  ).action(async (file: string | undefined, o) => {
    process.stderr.write(`exporting definitions from ${o.url} ...\n`)
    const document = await api(o, 'GET', '/definitions')
    const text = `${JSON.stringify(document, null, 2)}\n`
    if (file === undefined || file === '-') process.stdout.write(text)
    else await writeFile(file, text, { mode: 0o600 })
    process.stderr.write(`exported ${summary(document)}${file && file !== '-' ? ` to ${file}` : ''}\n`)
  })
  withUrl(
    definitions
      .command('import <file>')
      .description('create what FILE (or - for stdin) defines and the broker lacks; existing items stay as they are'),
  ).action(async (file: string, o) => {
    let text: string
    try {
      text = file === '-' ? await readStdin() : await readFile(file, 'utf8')
    } catch (error) {
      throw new CliError(`cannot read ${file}: ${(error as Error).message}`)
    }
    let document: Json
    try {
      document = JSON.parse(text)
    } catch (error) {
      throw new CliError(`${file} is not JSON: ${(error as Error).message}`)
    }
    process.stderr.write(`importing ${summary(document)} into ${o.url} ...\n`)
    const result = await api(o, 'POST', '/definitions', document)
    for (const kind of KINDS) {
      const c = result[kind]
      print(`${kind}\tcreated=${c.created}\texisting=${c.existing}`)
    }
    for (const error of result.errors) process.stderr.write(`wharf: ${error}\n`)
    if (result.errors.length > 0) throw new CliError(`${result.errors.length} definition(s) could not be imported`)
  })
}
