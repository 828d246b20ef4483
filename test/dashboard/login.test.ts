// The dashboard login in a real browser (Debian's Chromium through playwright-core) against an in-process
// Wharf whose anonymous access is off: the login page, a wrong password, an untagged user, a login that
// works, the session cookie's flags, CSRF refusal of a state-changing request without the header, the
// Users & ACLs page adding a user and a rule, and logout.
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { createBroker } from '../../src/index.ts'
import { startHttpListener } from '../../src/protocols/http/listener.ts'
import { silentLogger } from '../../src/util/logger.ts'
import { chromiumMissing, launchChromium } from './chromium.ts'

// Page-side globals for functions passed to page.evaluate (the repository's tsconfig has no DOM lib).
declare const document: { cookie: string; documentElement: { outerHTML: string } }

const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts')

test('dashboard login in Chromium: login page, errors, HttpOnly SameSite=Strict cookie, CSRF, users page, logout', {
  skip: chromiumMissing,
  timeout: 90_000,
}, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-dash-login-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const broker = await createBroker({
    dataDir: dir,
    durability: 'never',
    security: {
      users: [
        { name: 'alice', password: 'alice-pw', tags: ['administrator'] },
        { name: 'bob', password: 'bob-pw' },
      ],
    },
  })
  broker.security.configure({ anonymous: false })
  const http = await startHttpListener({ broker, host: '127.0.0.1', port: 0, logger: silentLogger })
  t.after(async () => {
    await http.close()
    await broker.close()
  })
  const base = `http://127.0.0.1:${http.port}`

  const browser = await launchChromium(t)
  const page = await browser.newPage()
  page.setDefaultTimeout(10_000)
  const pageErrors: string[] = []
  page.on('pageerror', (error) => pageErrors.push(String(error.stack ?? error)))
  // The browser must never be asked for Basic credentials: every 401 the page gets has the Session challenge.
  const challenges: string[] = []
  page.on('response', async (response) => {
    if (response.status() === 401) challenges.push((await response.headerValue('www-authenticate')) ?? 'none')
  })

  await page.goto(`${base}/`)
  await page.getByRole('heading', { name: 'Log in to Wharf' }).waitFor()
  assert.equal(await page.locator('#nav').isHidden(), true, 'no navigation before login')
  assert.equal(await page.locator('main').textContent(), 'Log in to WharfUser namePasswordLog in')

  // Wrong password: an error on the page, no session.
  await page.getByLabel('User name').fill('alice')
  await page.getByLabel('Password').fill('wrong-password')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByText('Wrong user name or password.').waitFor()
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, 'login.png'), fullPage: true })
  assert.equal((await browser.cookies()).length, 0)

  // A user with no tag may not use the dashboard.
  await page.getByLabel('User name').fill('bob')
  await page.getByLabel('Password').fill('bob-pw')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByText(/ACCESS_REFUSED: User:bob has no administrator, management or monitoring tag/).waitFor()

  await page.getByLabel('User name').fill('alice')
  await page.getByLabel('Password').fill('alice-pw')
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByRole('heading', { name: 'Overview' }).waitFor()
  assert.equal(await page.locator('#whoami').textContent(), 'alice (administrator)')

  const cookies = await browser.cookies()
  const session = cookies.find((c) => c.name === 'wharf_session')
  assert.ok(session, 'a session cookie is set')
  assert.equal(session.httpOnly, true)
  assert.equal(session.sameSite, 'Strict')
  assert.equal(await page.evaluate(() => document.cookie.includes('wharf_session')), false, 'scripts cannot read it')

  // A state-changing request with the cookie but without the CSRF header is refused; with it, it works.
  const attempt = (csrf: boolean) =>
    page.evaluate(async (withToken) => {
      const who = (await (await fetch('/api/v1/session')).json()) as { csrfToken: string }
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (withToken) headers['x-csrf-token'] = who.csrfToken
      const res = await fetch('/api/v1/streams', { method: 'POST', headers, body: JSON.stringify({ name: 'by-page' }) })
      return { status: res.status, body: await res.text() }
    }, csrf)
  const without = await attempt(false)
  assert.equal(without.status, 403)
  assert.match(without.body, /x-csrf-token/)
  assert.equal(broker.getStream('by-page'), undefined)
  assert.equal((await attempt(true)).status, 201)

  // Users & ACLs: add a user with a tag, then a rule.
  await page.getByRole('link', { name: 'Users & ACLs' }).click()
  await page.getByRole('heading', { name: 'Users & ACLs' }).waitFor()
  await page.locator('[data-user="bob"]').waitFor()
  const addUser = page.getByRole('form', { name: 'Add a user' })
  await addUser.getByLabel('Name').fill('carol')
  await addUser.getByLabel('Password').fill('carol-browser-pw')
  await addUser.getByLabel('management').check()
  await addUser.getByRole('button', { name: 'Add user' }).click()
  await page.locator('[data-user="carol"]').waitFor()
  assert.deepEqual(broker.security.users.get('carol')?.tags, ['management'])
  assert.ok(await broker.security.users.verifyPassword('carol', 'carol-browser-pw'))
  assert.equal(
    await page.evaluate(() => document.documentElement.outerHTML.includes('carol-browser-pw')),
    false,
    'the password is not left in the page',
  )

  const addRule = page.getByRole('form', { name: 'Add an ACL rule' })
  await addRule.getByLabel('Principal').fill('User:carol')
  await addRule.getByLabel('Operation').selectOption('Write')
  await addRule.getByLabel('Permission').selectOption('Deny')
  await addRule.getByLabel('Resource name').fill('payments')
  await addRule.getByRole('button', { name: 'Add rule' }).click()
  await page.getByRole('cell', { name: 'Topic payments' }).waitFor()
  await page.screenshot({ path: join(ARTIFACTS, 'security.png'), fullPage: true })
  assert.deepEqual(broker.security.acls.list({ principal: 'User:carol' }), [
    {
      principal: 'User:carol',
      host: '*',
      operation: 'Write',
      permission: 'Deny',
      resourceType: 'Topic',
      resourceName: 'payments',
      patternType: 'Literal',
    },
  ])

  // Logout ends the session on the server, not only in the page.
  await page.getByRole('button', { name: 'Log out' }).click()
  await page.getByRole('heading', { name: 'Log in to Wharf' }).waitFor()
  await page.getByText('You have logged out.').waitFor()
  const after = await fetch(`${base}/api/v1/session`, { headers: { cookie: `wharf_session=${session.value}` } })
  assert.equal(after.status, 401)
  assert.deepEqual(pageErrors, [])
  assert.ok(challenges.length >= 2, 'the start and the wrong password were 401s')
  assert.deepEqual(new Set(challenges), new Set(['Session realm="wharf"']))
})
