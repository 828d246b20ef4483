// Process wiring: opens the data directory and (as they arrive) the broker and its listeners.
import { mkdirSync } from 'node:fs'
import type { Logger } from '../util/logger.js'
import type { WharfConfig } from './config.js'

export interface RunningServer {
  readonly config: WharfConfig
  close(): Promise<void>
}

export async function startServer(config: WharfConfig, logger: Logger): Promise<RunningServer> {
  mkdirSync(config.dataDir, { recursive: true })
  logger.info({ dataDir: config.dataDir }, 'wharf ready')
  return {
    config,
    async close() {
      logger.info('wharf stopped')
    },
  }
}
