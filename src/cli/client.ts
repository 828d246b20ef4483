// The CLI's side of the REST admin API: one request helper with the broker address and credentials every
// admin verb takes (--url, --user/--password or --token, or WHARF_URL, WHARF_USER/WHARF_PASSWORD, WHARF_TOKEN).
// Credentials are read from the environment here rather than given as option defaults, so --help never
// prints a password. Failures become one CliError line.
import type { Command } from 'commander'

export const URL_DEFAULT = process.env.WHARF_URL ?? 'http://127.0.0.1:8080'
const REQUEST_TIMEOUT_MS = 30_000

export class CliError extends Error {}

// biome-ignore lint/suspicious/noExplicitAny: replies are untyped JSON, printed or picked field by field
export type Json = any

/** Where and as whom: the options withUrl adds, as commander parsed them. */
export interface Target {
  url: string
  user?: string
  password?: string
  token?: string
}

function authorization(target: Target): string | undefined {
  const token = target.token ?? process.env.WHARF_TOKEN
  const user = target.user ?? process.env.WHARF_USER
  const password = target.password ?? process.env.WHARF_PASSWORD
  if (target.token !== undefined && target.user !== undefined) throw new CliError('give --user or --token, not both')
  if (user !== undefined && user !== '') {
    if (password === undefined) throw new CliError(`--user ${user} needs --password or WHARF_PASSWORD`)
    return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
  }
  if (token !== undefined && token !== '') return `Bearer ${token}`
  return undefined
}

export async function api(target: Target, method: string, path: string, body?: unknown): Promise<Json> {
  const base = target.url
  let url: URL
  try {
    url = new URL(`/api/v1${path}`, base)
  } catch {
    throw new CliError(`invalid --url ${base}`)
  }
  const headers: Record<string, string> = {}
  const auth = authorization(target)
  if (auth !== undefined) headers.authorization = auth
  if (body !== undefined) headers['content-type'] = 'application/json'
  let res: Response
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message
    throw new CliError(`cannot reach the broker at ${base}: ${cause}`)
  }
  const text = await res.text()
  let json: Json
  try {
    json = text === '' ? {} : JSON.parse(text)
  } catch {
    throw new CliError(`unexpected reply from ${base} (HTTP ${res.status}): ${text.slice(0, 200)}`)
  }
  if (!res.ok) {
    const hint =
      res.status === 401 && auth === undefined
        ? ' (give --user and --password, or WHARF_USER and WHARF_PASSWORD, or --token)'
        : ''
    throw new CliError(
      `${json?.error?.code ?? `HTTP ${res.status}`}: ${json?.error?.message ?? text.slice(0, 200)}${hint}`,
    )
  }
  return json
}

export function print(value: unknown): void {
  process.stdout.write(`${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`)
}

/** The address and credential options of every admin verb. */
export function withUrl(command: Command): Command {
  return command
    .option('--url <url>', `broker HTTP address (env WHARF_URL, default ${URL_DEFAULT})`, URL_DEFAULT)
    .option('--user <name>', 'log in as this user (env WHARF_USER)')
    .option('--password <password>', "that user's password (env WHARF_PASSWORD, which `ps` does not show)")
    .option('--token <token>', 'an API token instead of a user and password (env WHARF_TOKEN)')
}

/** Lists every page (the API caps a page at 1000 items); `path` may carry a query of its own. */
export async function listAll(target: Target, path: string, filter: string | undefined): Promise<Json[]> {
  const items: Json[] = []
  for (let offset = 0; ; offset += 1000) {
    const q = filter ? `&q=${encodeURIComponent(filter)}` : ''
    const page = await api(target, 'GET', `${path}${path.includes('?') ? '&' : '?'}limit=1000&offset=${offset}${q}`)
    items.push(...page.items)
    if (items.length >= page.total || page.items.length === 0) return items
  }
}

/** All of stdin (empty when it is a terminal). */
export async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return ''
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Repeatable option values (`-H a=1 -H b=2`): each one a separate, non-variadic option argument. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/**
 * `wharf consume ... | head -1`: once the reader is gone, stop quietly with status 0 (as `cat` does under a
 * shell that ignores SIGPIPE) instead of an EPIPE stack trace.
 */
export function exitQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
    process.exit(0)
  })
}

/** A progress line on stderr: rewritten in place on a terminal, one line each otherwise (logs, pipes). */
export function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`)
  else process.stderr.write(`${line}\n`)
}

/** Ends a progress line written in place, so what follows starts on a fresh line. */
export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\n')
}

/** Prints items as JSON (`--json`) or one line each. */
export function printItems(items: Json[], json: boolean | undefined, line: (item: Json) => string): void {
  if (json) print(items)
  else for (const item of items) print(line(item))
}

export const enc = encodeURIComponent
