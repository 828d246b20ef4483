import { Command, InvalidArgumentError } from 'commander'
import { defaultConfig, flagName, loadConfig, type WharfConfig } from '../server/config.js'
import { startServer } from '../server/server.js'
import { createLogger } from '../util/logger.js'
import { registerAdminCommands } from './admin.js'
import { CliError } from './client.js'
import { registerSecurityCommands } from './security.js'

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
    .option(
      '--kafka-advertised-host <host>',
      'host advertised in Kafka Metadata (default: the listen host; for 0.0.0.0, the first non-internal IPv4)',
    )
    .option(
      '--kafka-connections-max-idle-ms <ms>',
      'close Kafka connections idle this long (0 = never; default 600000)',
    )
    .option('--disk-free-limit-bytes <n>', 'raise the disk alarm (block publishers) below this much free space')
    .option(
      '--memory-high-watermark-bytes <n>',
      'raise the memory alarm above this much heap + buffer memory in use, after a GC (0 = off)',
    )
    .option('--alarm-interval-ms <n>', 'how often the disk and memory alarms are measured (default 1000)')
    .option('--connections-max <n>', 'open client connections per listener before new ones are dropped')
    .option('--connections-per-address-max <n>', 'open connections per listener from one address (default 1000)')
    .option(
      '--anonymous <auto|true|false>',
      'let clients without credentials in (auto: only on loopback with no users)',
    )
    .option('--default-permission <allow|deny>', 'what a user may do where no ACL allow rule names them')
    .option('--users <json>', 'users to create at start, as the config file lists them (JSON array)')
    .option('--acls <json>', 'ACL rules to add at start (JSON array)')
    .option('--tls-cert-file <file>', 'PEM server certificate (chain); TLS listeners start when set')
    .option('--tls-key-file <file>', 'PEM private key of the certificate')
    .option('--tls-ca-file <file>', 'PEM CA bundle client certificates must chain to')
    .option('--tls-client-auth <mode>', 'client certificates: none|request|require (default none)')
    .option('--sqs-base-url <url>', 'base of SQS queue URLs (default: the address each request came in on)')
    .option('--http-headers-timeout-ms <ms>', 'HTTP: close a connection whose request headers take longer')
    .option('--http-request-timeout-ms <ms>', 'HTTP: close a connection whose whole request (body) takes longer')
    .option('--http-keep-alive-timeout-ms <ms>', 'HTTP: close an idle keep-alive connection after this long')
    .option('--public-metrics <bool>', '/metrics, /healthz, /readyz without credentials (default true)')
    .option('--mqtt-queued-bytes-max <n>', 'payload bytes a clean MQTT session holds in memory (default 32 MiB)')
    .option('--mqtt-inflight-bytes-max <n>', 'payload bytes of a clean MQTT session in flight (default 16 MiB)')
    .option('--mqtt-retained-bytes-max <n>', 'bytes of all MQTT retained messages (default 64 MiB)')
    .option('--mqtt-retained-message-bytes-max <n>', 'bytes of one MQTT retained message (default 1 MiB)')
    .option('--mqtt-connect-timeout-ms <n>', 'close MQTT connections that send no CONNECT within this (default 10000)')
    .option(
      '--topic-wildcards-max <n>',
      `most '#' in one AMQP topic binding key (default ${defaultConfig.topicWildcardsMax})`,
    )
    .option(
      '--schema-bytes-max <n>',
      `largest schema the registry accepts, bytes (default ${defaultConfig.schemaBytesMax})`,
    )
    .option(
      '--schema-depth-max <n>',
      `deepest JSON nesting of a registered schema (default ${defaultConfig.schemaDepthMax})`,
    )
  for (const key of ['kafkaPort', 'amqpPort', 'mqttPort', 'httpPort'] as const) {
    start.option(
      `--${flagName(key)} <port>`,
      `${key.replace('Port', '')} port, 0 disables (default ${defaultConfig[key]})`,
      port,
    )
  }
  for (const key of ['kafkaTlsPort', 'amqpTlsPort', 'mqttTlsPort', 'httpsPort'] as const) {
    start.option(`--${flagName(key)} <port>`, `TLS port when TLS is configured (default ${defaultConfig[key]})`, port)
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
      // Certificates are renewed in place: SIGHUP re-reads them; open connections keep the old one.
      process.on('SIGHUP', () => {
        try {
          server.reloadTls()
          logger.info('TLS certificates reloaded')
        } catch (error) {
          logger.error({ err: (error as Error).message }, 'TLS reload failed; the previous certificate stays in use')
        }
      })
    })
  })
  program
    .command('certs')
    .description('certificates for trying TLS')
    .command('dev <dir>')
    .description('make a development CA, a server certificate for this machine and a client certificate in DIR')
    .option('--host <names...>', 'more host names or IP addresses for the server certificate')
    .option('--client <names...>', 'common names of client certificates to make (default: client)')
    .action(async (dir: string, options: { host?: string[]; client?: string[] }) => {
      const { makeDevCertificates } = await import('./certs.js')
      const files = await makeDevCertificates(dir, { hosts: options.host, clients: options.client })
      process.stdout.write(
        `CA certificate:     ${files.ca}\nserver certificate: ${files.cert}\nserver key:         ${files.key}\n` +
          Object.entries(files.clients)
            .map(([name, f]) => `client ${name}: ${f.cert} ${f.key}\n`)
            .join('') +
          `\nStart with TLS:\n  wharf start --tls-cert-file ${files.cert} --tls-key-file ${files.key} --tls-ca-file ${files.ca}\n`,
      )
    })
  registerAdminCommands(program)
  registerSecurityCommands(program)
  try {
    await program.parseAsync(argv)
  } catch (error) {
    // Admin verbs fail with one clear line and a non-zero exit, without a stack trace.
    if (!(error instanceof CliError)) throw error
    process.stderr.write(`wharf: ${error.message}\n`)
    process.exitCode = 1
  }
}
