// Process wiring: opens the data directory, the broker and (as they arrive) the protocol listeners.
import type { Broker } from '../broker/broker.js'
import { createBroker } from '../index.js'
import type { Logger } from '../util/logger.js'
import type { WharfConfig } from './config.js'

export interface RunningServer {
  readonly config: WharfConfig
  readonly broker: Broker
  close(): Promise<void>
}

export async function startServer(config: WharfConfig, logger: Logger): Promise<RunningServer> {
  const broker = await createBroker({
    dataDir: config.dataDir,
    durability: config.durability,
    warn: (message, details) => logger.warn(details ?? {}, message),
  })
  const streams = broker.listStreams().length
  const queues = broker.listQueues().length
  logger.info({ dataDir: config.dataDir, streams, queues, durability: config.durability }, 'wharf ready')
  return {
    config,
    broker,
    async close() {
      await broker.close()
      logger.info('wharf stopped')
    },
  }
}
