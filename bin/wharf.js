#!/usr/bin/env node
// Runs the compiled CLI; `npm ci` builds dist/ through the `prepare` script.
import { main } from '../dist/cli/main.js'

main(process.argv).catch((error) => {
  process.stderr.write(`wharf: ${error?.message ?? error}\n`)
  process.exitCode = 1
})
