// `npm start` is how the README (and a Dockerfile's CMD, or a process manager) runs Wharf; SIGTERM sent to npm
// alone, as `docker stop` does, must stop the broker cleanly instead of leaving it running without a parent.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { freePort } from '../fixtures/wharf-process.ts'
import { launch, root, stopWithSigterm, waitReady } from './harness.ts'

test('SIGTERM to `npm start` stops the broker and closes its data directory', async (t) => {
  if (!existsSync(join(root, 'dist', 'index.js'))) {
    t.skip('dist/ not built (run npm ci or npm run build)')
    return
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-npm-start-'))
  t.after(() => rmSync(dataDir, { recursive: true, force: true }))
  const httpPort = await freePort()
  const env = {
    WHARF_DATA_DIR: dataDir,
    WHARF_HTTP_PORT: String(httpPort),
    WHARF_KAFKA_PORT: '0',
    WHARF_AMQP_PORT: '0',
    WHARF_MQTT_PORT: '0',
    WHARF_STOMP_PORT: '0',
  }
  const started = launch('npm', ['start'], { cwd: root, env })
  await waitReady(started.launcher, httpPort, started.output)
  await stopWithSigterm(started, httpPort, dataDir)
})
