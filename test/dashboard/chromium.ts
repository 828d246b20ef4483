// Debian's Chromium through playwright-core for the dashboard tests: one fresh headless profile per test.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { type BrowserContext, chromium } from 'playwright-core'

const CHROMIUM = '/usr/bin/chromium'

/** A test's `skip` option: false, or why the browser tests cannot run here. */
export const chromiumMissing = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)`

/** A browser on a fresh user-data dir (launchPersistentContext is playwright's way to give it one); closed after the test. */
export async function launchChromium(t: TestContext): Promise<BrowserContext> {
  const userDataDir = mkdtempSync(join(tmpdir(), 'wharf-dash-chromium-'))
  const browser = await chromium
    .launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      viewport: { width: 1280, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    .catch((error: unknown) => {
      rmSync(userDataDir, { recursive: true, force: true })
      throw error
    })
  // One hook, in this order: the profile can only be removed once Chromium has stopped writing to it.
  t.after(async () => {
    await browser.close()
    rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3 })
  })
  return browser
}
