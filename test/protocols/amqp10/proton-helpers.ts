// Running Qpid Proton scripts (Debian python3-qpid-proton, importable only by /usr/bin/python3) from the tests.
import { spawn } from 'node:child_process'

export const PYTHON_BIN = '/usr/bin/python3'

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs a Python script to its end; past the time-out it is killed by its pid and the test fails. */
export function runPython(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString()
    })
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString()
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${args[0]} still running after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
