// The process's one structured logger (pino). Lines are JSON objects (one per line, what log shippers and `jq`
// read), or, for a person at a terminal, one readable line each: the same records through a small formatter
// here rather than pino-pretty, so a production install needs nothing more.
import pino from 'pino'

export type Logger = pino.Logger

/** The levels `logLevel` accepts, most severe first (`silent` logs nothing). */
export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** `auto`: pretty when stdout is a terminal, JSON otherwise. */
export const logFormats = ['auto', 'pretty', 'json'] as const
export type LogFormat = (typeof logFormats)[number]

export interface LoggerOptions {
  level?: string
  name?: string
  format?: LogFormat
  /** Where lines go (default stdout); pretty output is coloured only when this is a terminal. */
  destination?: { write(line: string): unknown; isTTY?: boolean }
}

/** One structured logger for the process; components take a child logger. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const settings = { name: options.name ?? 'wharf', level: options.level ?? process.env.WHARF_LOG_LEVEL ?? 'info' }
  const out = options.destination ?? process.stdout
  const format = options.format ?? 'auto'
  const pretty = format === 'pretty' || (format === 'auto' && out.isTTY === true)
  if (pretty) return pino(settings, prettyDestination(out, out.isTTY === true))
  if (options.destination !== undefined) return pino(settings, options.destination)
  return pino(settings)
}

export const silentLogger: Logger = pino({ level: 'silent' })

const levelNames: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
}
const levelColours: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' }
/** Fields every line carries that a person does not need to read on each line. */
const hidden = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'v'])

/** A pino destination that writes each JSON record as one readable line (lists as indented lines below it). */
export function prettyDestination(
  out: { write(line: string): unknown },
  colour: boolean,
): { write(line: string): void } {
  return {
    write(line: string) {
      out.write(prettyLine(line, colour))
    },
  }
}

/** `12:00:01.234 INFO  amqp connection opened peer=127.0.0.1:50312 user=guest` (+ `    item` lines). */
export function prettyLine(json: string, colour = false): string {
  let record: Record<string, unknown>
  try {
    record = JSON.parse(json)
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`
  }
  const level = typeof record.level === 'number' ? record.level : 30
  const time = new Date(typeof record.time === 'number' ? record.time : Date.now())
  const clock = `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}.${String(time.getMilliseconds()).padStart(3, '0')}`
  const name = (levelNames[level] ?? String(level)).padEnd(5)
  const shownLevel = colour ? `\x1b[${levelColours[level] ?? '0'}m${name}\x1b[0m` : name
  let head = `${clock} ${shownLevel} ${String(record.msg ?? '')}`
  const tail: string[] = []
  for (const [key, value] of Object.entries(record)) {
    if (hidden.has(key) || value === undefined) continue
    if (Array.isArray(value) && value.every((item) => typeof item === 'string')) {
      for (const item of value) tail.push(`    ${item}`)
    } else if (key === 'err' && value !== null && typeof value === 'object') {
      const err = value as { message?: string; stack?: string }
      head += ` err=${quote(err.message ?? JSON.stringify(value))}`
      if (level >= 50 && typeof err.stack === 'string')
        for (const frame of err.stack.split('\n').slice(1)) tail.push(`  ${frame}`)
    } else head += ` ${key}=${typeof value === 'string' ? quote(value) : JSON.stringify(value)}`
  }
  return `${[head, ...tail].join('\n')}\n`
}

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

/** A value as it reads on the line: bare when it has no spaces or quotes, else JSON-quoted. */
function quote(text: string): string {
  return /^[^\s"=]*$/.test(text) && text !== '' ? text : JSON.stringify(text)
}
