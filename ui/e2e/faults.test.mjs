// Fault injection as a developer meets it, against a real `latchkey serve` in Debian's
// Chromium: from a client's page, make its next token request fail; the app's request (a plain
// fetch, as the app would send it) fails, the request log marks it, the banner says a rule is
// on, and the rule is removed again. Also the Faults page's form (it offers only what fits the
// endpoint), the other shortcuts, and screenshots at 1366x850 and 1024x700, light and dark.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { launch, shot, startServer } from './harness.mjs'

let server
let browser
let page
const errors = []

const SIZES = [
  ['1366', { width: 1366, height: 850 }],
  ['1024', { width: 1024, height: 700 }],
]

async function shots(name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme })
    for (const [label, size] of SIZES) {
      await page.setViewportSize(size)
      await shot(page, `faults-${name}-${label}-${scheme}`)
    }
  }
  await page.emulateMedia({ colorScheme: 'light' })
  await page.setViewportSize(SIZES[0][1])
}

const url = (p) => `${server.base}/admin/${p}`
const admin = async (method, path, body) => {
  const r = await fetch(`${server.base}/admin/api${path}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${await r.clone().text()}`)
  return r.status === 204 ? null : r.json()
}

/** The app's token request (client credentials), as the app sends it. */
const appToken = () =>
  fetch(`${server.base}/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from('books-app:books-app-secret').toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read_books' }),
  })

before(async () => {
  server = await startServer()
  browser = await launch()
  const ctx = await browser.newContext({ viewport: SIZES[0][1], colorScheme: 'light' })
  page = await ctx.newPage()
  page.on('pageerror', (e) => errors.push(e.message))
  await admin('POST', '/scopes', { name: 'read_books', description: 'Read the catalogue', claims: [] })
  await admin('POST', '/clients', {
    client_id: 'books-app', client_secret: 'books-app-secret', name: 'Books app', redirect_uris: [], post_logout_redirect_uris: [],
    grant_types: ['client_credentials'], scopes: ['read_books'], audiences: [], require_consent: false,
  })
  await admin('POST', '/users', { username: 'alice', password: 'alice-password-123', claims: { name: 'Alice' } })
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

test("a rule from the client's page fails the app's next token request, shows in the log and the banner, and is removed", async () => {
  await page.goto(url('clients/books-app'))
  await page.getByTestId('fail-next-token').click()
  // The banner appears on every page while the rule is on.
  const banner = page.getByTestId('fault-banner')
  await banner.getByText('fail the next token request of books-app').waitFor()
  await shots('01-client-shortcut')

  const failed = await appToken()
  assert.equal(failed.status, 400)
  assert.equal((await failed.json()).error, 'invalid_grant')
  const ok = await appToken()
  assert.equal(ok.status, 200, 'once: the next request works')

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Requests/ }).click()
  const row = page.getByRole('row').filter({ hasText: 'fault “fail the next token request of books-app”' })
  await row.waitFor()
  await row.click()
  await page.getByTestId('request-fault').getByText('error invalid_grant (400)').waitFor()
  // Used up (times = 1): no banner any more.
  await banner.waitFor({ state: 'detached' })
  await shots('02-request-log')

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Faults/ }).click()
  const rule = page.getByTestId('fault-rule').filter({ hasText: 'fail the next token request of books-app' })
  await rule.getByText('used up').waitFor({ timeout: 5000 }).catch(async (e) => {
    throw new Error(`${e.message}\n${await page.getByTestId('fault-rules').textContent()}`)
  })
  await rule.getByText('1 of 1 matched').waitFor()
  await rule.getByTestId('fault-delete').click()
  await rule.waitFor({ state: 'detached' })
  assert.deepEqual(await admin('GET', '/faults'), [])
})

test('the form offers only what fits the endpoint, and creates a rule', async () => {
  await page.goto(url('faults'))
  const form = page.getByTestId('fault-form')
  const actions = async () => (await form.locator('#fault-action option').allTextContents())
  const tamper = form.locator('#fault-action option', { hasText: 'Tamper with the token' })
  // The page loads its chunk and renders the form: wait for it rather than read it half-built.
  await tamper.waitFor({ state: 'attached' })
  assert.ok((await actions()).includes('Tamper with the token'))
  await form.locator('#fault-endpoint').selectOption('jwks')
  await tamper.waitFor({ state: 'detached' })
  assert.ok(!(await actions()).includes('Tamper with the token'))
  assert.ok(!(await actions()).includes('OAuth error'))
  assert.equal(await form.locator('#fault-client_id').count(), 0, 'no client field at the JWKS')
  await form.locator('#fault-endpoint').selectOption('login')
  await form.locator('#fault-username').fill('alice')
  await form.locator('#fault-action').selectOption('error')
  assert.equal(await form.locator('#fault-error').inputValue(), 'access_denied')
  await form.locator('#fault-times').fill('')
  await form.locator('#fault-name').fill('alice locked out')
  await form.getByTestId('fault-create').click()
  await page.getByTestId('fault-rule').filter({ hasText: 'alice locked out' }).waitFor()
  await page.getByTestId('fault-banner').getByText('alice locked out').waitFor()
  const [r] = await admin('GET', '/faults')
  assert.deepEqual(
    { endpoint: r.endpoint, username: r.username, action: r.action, error: r.error, times: r.times },
    { endpoint: 'login', username: 'alice', action: 'error', error: 'access_denied', times: undefined },
  )
  await admin('POST', '/scenarios/mine/save', {})
  await page.getByRole('cell', { name: 'mine', exact: true }).waitFor()
  await shots('03-page')
  // "Turn all off" in the banner.
  await page.getByTestId('faults-off').click()
  await page.getByTestId('fault-banner').waitFor({ state: 'detached' })
})

test('shortcuts: deny a user their next login, a JWKS without the current key, a rule like a logged request', async () => {
  await admin('PUT', '/faults', [])
  await page.goto(url('users/alice'))
  await page.getByTestId('deny-next-login').click()
  await page.getByTestId('fault-banner').getByText('deny the next login of alice').waitFor()
  await page.goto(url('keys'))
  await page.getByTestId('jwks-without-current').click()
  await page.getByTestId('fault-banner').getByText('JWKS without the current key').waitFor()
  const { active_kid } = await admin('GET', '/status')
  const jwks = await (await fetch(`${server.base}/jwks`)).json()
  assert.ok(!jwks.keys.some((k) => k.kid === active_kid), 'the current key is left out')
  await shots('04-keys-shortcut')
  await admin('PUT', '/faults', [])
  // A rule like a logged request: the form opens pre-filled.
  await appToken()
  await page.goto(url('requests'))
  await page.getByRole('row').filter({ hasText: '/token' }).first().click()
  await page.getByTestId('fail-like-this').click()
  await page.getByTestId('fault-form').waitFor()
  assert.equal(await page.locator('#fault-endpoint').inputValue(), 'token')
  assert.equal(await page.locator('#fault-client_id').inputValue(), 'books-app')
  assert.equal(await page.locator('#fault-grant_type').inputValue(), 'client_credentials')
  await page.getByTestId('fault-create').click()
  await page.getByTestId('fault-rule').filter({ hasText: 'fail the next token request of books-app' }).waitFor()
  assert.equal((await appToken()).status, 400)
  await page.goto(url(''))
  await page.getByTestId('call-counts').waitFor()
  await shots('05-overview')
  assert.deepEqual(errors, [])
})
