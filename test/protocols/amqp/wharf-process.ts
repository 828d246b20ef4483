// Starts `wharf start` (through tsx) as a child process with AMQP on a given port and the other listeners on
// ephemeral ports: for tests that restart or kill the broker.
import { type ChildProcess, spawn } from 'node:child_process'
import net from 'node:net'

const cli = new URL('../../fixtures/wharf-cli.ts', import.meta.url).pathname

export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

export function startWharf(
  dataDir: string,
  amqpPort: number,
): { proc: ChildProcess; ready: Promise<void>; exit: Promise<number | null> } {
  const args = ['--import', 'tsx', cli, 'start', '--data-dir', dataDir, '--amqp-port', String(amqpPort)]
  for (const other of ['--kafka-port', '--http-port', '--mqtt-port']) args.push(other, '0')
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const ready = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      output += d
      if (output.includes('wharf ready')) resolve()
    })
    proc.stderr!.on('data', (d) => {
      output += d
    })
    proc.on('exit', () => reject(new Error(`exited before ready: ${output}`)))
  })
  ready.catch(() => {})
  const exit = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)))
  return { proc, ready, exit }
}
