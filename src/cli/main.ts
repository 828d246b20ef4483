import { Command } from 'commander'
import { wharfVersion } from '../util/version.js'
import { registerAdminCommands } from './admin.js'
import { registerBenchCommand } from './bench.js'
import { CliError, exitQuietlyWhenStdoutCloses } from './client.js'
import { registerConsumeCommand } from './consume.js'
import { registerDefinitionCommands } from './definitions.js'
import { registerOperationCommands } from './groups.js'
import { registerMetadataCommand } from './metadata.js'
import { registerRoutingCommands } from './routing.js'
import { registerSecurityCommands } from './security.js'

export async function main(argv: string[]): Promise<void> {
  const program = new Command('wharf')
    .description('Wharf message broker')
    .version(wharfVersion, '-V, --version', 'print the version')
    .showHelpAfterError()
  const start = program.command('start').description('run the broker (embedded data dir, default ports)')
  // Its flags and action load the whole server: only when the command line is `start` (or `help start`).
  const words = argv.slice(2).filter((word) => !word.startsWith('-'))
  if (words[0] === 'start' || (words[0] === 'help' && words[1] === 'start')) {
    const { configureStart } = await import('./start.js')
    configureStart(start)
  }
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
  registerConsumeCommand(program)
  registerRoutingCommands(program)
  registerOperationCommands(program)
  registerMetadataCommand(program)
  registerDefinitionCommands(program)
  registerBenchCommand(program)
  registerSecurityCommands(program)
  exitQuietlyWhenStdoutCloses()
  try {
    await program.parseAsync(argv)
  } catch (error) {
    // Admin verbs fail with one clear line and a non-zero exit, without a stack trace.
    if (!(error instanceof CliError)) throw error
    process.stderr.write(`wharf: ${error.message}\n`)
    process.exitCode = 1
  }
}
