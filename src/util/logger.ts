import pino from 'pino'

export type Logger = pino.Logger

/** One structured logger for the process; components take a child logger. */
export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  return pino({ name: options.name ?? 'wharf', level: options.level ?? process.env.WHARF_LOG_LEVEL ?? 'info' })
}

export const silentLogger: Logger = pino({ level: 'silent' })
