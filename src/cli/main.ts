import { Command, InvalidArgumentError } from 'commander'
import { defaultConfig, flagName, loadConfig, type WharfConfig } from '../server/config.js'
import { startServer } from '../server/server.js'
import { createLogger } from '../util/logger.js'
import { CliError, registerAdminCommands } from './admin.js'

function port(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port number 0-65535')
  return n
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('wharf').description('Wharf message broker').showHelpAfterError()
  const start = program
    .command('start')
    .description('run the broker (embedded data dir, default ports)')
    .option('-c, --config <file>', 'JSON config file')
    .option('--data-dir <dir>', `data directory (default ${defaultConfig.dataDir})`)
    .option('--host <host>', `listen address (default ${defaultConfig.host})`)
    .option('--log-level <level>', 'pino log level')
    .option('--durability <policy>', 'default fsync policy: always|interval|never')
    .option('--kafka-auto-create-topics <bool>', 'create unknown topics on Metadata/Produce (default true)')
    .option('--kafka-default-partitions <n>', 'partitions of auto-created topics (default 1)')
    .option('--kafka-advertised-host <host>', 'host advertised in Kafka Metadata (default: the listen host)')
    .option('--disk-free-limit-bytes <n>', 'raise the disk alarm (block publishers) below this much free space')
    .option('--memory-high-watermark-bytes <n>', 'raise the memory alarm above this RSS (0 = off)')
    .option('--connections-max <n>', 'open client connections per listener before new ones are dropped')
  for (const key of ['kafkaPort', 'amqpPort', 'mqttPort', 'httpPort'] as const) {
    start.option(
      `--${flagName(key)} <port>`,
      `${key.replace('Port', '')} port, 0 disables (default ${defaultConfig[key]})`,
      port,
    )
  }
  start.action(async (options: Partial<WharfConfig> & { config?: string }) => {
    const { config: configFile, ...flags } = options
    const config = loadConfig({ configFile, flags })
    const logger = createLogger({ level: config.logLevel })
    // A stray promise rejection is a bug to report, not a reason to drop every client's connection.
    process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection'))
    const server = await startServer(config, logger)
    // Listeners keep the event loop alive once they exist; until then this timer does.
    const keepAlive = setInterval(() => {}, 1 << 30)
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        clearInterval(keepAlive)
        logger.info({ signal }, 'stopping')
        server.close().then(resolve, (error) => {
          logger.error({ err: error }, 'error while stopping')
          process.exitCode = 1
          resolve()
        })
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    })
  })
  registerAdminCommands(program)
  try {
    await program.parseAsync(argv)
  } catch (error) {
    // Admin verbs fail with one clear line and a non-zero exit, without a stack trace.
    if (!(error instanceof CliError)) throw error
    process.stderr.write(`wharf: ${error.message}\n`)
    process.exitCode = 1
  }
}
