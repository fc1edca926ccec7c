// The admin UI as a new user meets it: against a real `latchkey serve` serving the built UI,
// in Debian's Chromium. Screenshots of every page go to test-results/screenshots/.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { launch, shot, startServer } from './harness.mjs'

let server
let browser
let page
let darkPage

const CLIENT = 'e2e-books'
const SECRET = 'e2e-secret-value'

before(async () => {
  server = await startServer()
  browser = await launch()
  const ctx = await browser.newContext({ viewport: { width: 1360, height: 860 }, colorScheme: 'light' })
  page = await ctx.newPage()
  const errors = []
  page.on('pageerror', (e) => errors.push(e.message))
  // The server's Content-Security-Policy must not block anything the UI does.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text())
  })
  page.errors = errors
  const dark = await browser.newContext({ viewport: { width: 1360, height: 860 }, colorScheme: 'dark' })
  darkPage = await dark.newPage()
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

const overlaps = (a, b) => !!a && !!b && a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height
const scrollY = (pg) => pg.evaluate(() => Math.round(window.scrollY))

const nav = (pg, name) => pg.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: new RegExp(`^${name}(\\s|$)`) })
const url = (p) => `${server.base}/admin/${p}`

async function tokenFor(scope) {
  const r = await fetch(`${server.base}/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${CLIENT}:${SECRET}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  })
  assert.equal(r.status, 200, await r.clone().text())
  return r.json()
}

async function introspect(token) {
  const r = await fetch(`${server.base}/introspect`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${CLIENT}:${SECRET}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token }),
  })
  assert.equal(r.status, 200)
  return r.json()
}

test('a fresh server shows the overview with its endpoints and what to do next', async () => {
  await page.goto(url(''))
  await page.getByRole('heading', { name: 'Overview' }).waitFor()
  await page.getByText(`${server.base}/token`, { exact: true }).first().waitFor()
  await page.getByText('No clients yet').waitFor()
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor()
  await shot(page, '01-overview-empty')
})

test('scopes are created through the form', async () => {
  await nav(page, 'Scopes').click()
  await page.getByText('No custom scopes yet').waitFor()
  await shot(page, '02-scopes-empty')
  for (const [name, desc, claims] of [
    ['read_books', 'Read the book catalogue', ''],
    ['write_books', 'Add and edit books', 'library_card'],
  ]) {
    await page.getByRole('button', { name: 'New scope' }).click()
    const dialog = page.getByRole('dialog')
    await dialog.getByLabel('Name').fill(name)
    await dialog.getByLabel('Description').fill(desc)
    if (claims) await dialog.getByLabel('Released claims').fill(claims)
    await dialog.getByRole('button', { name: 'Create scope' }).click()
    await page.locator(`[data-scope-row="${name}"]`).waitFor()
  }
  // An invalid scope name is refused inline.
  await page.getByRole('button', { name: 'New scope' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByLabel('Name').fill('bad scope')
  await dialog.getByRole('button', { name: 'Create scope' }).click()
  await dialog.getByText('Printable ASCII without spaces').waitFor()
  await dialog.getByRole('button', { name: 'Cancel' }).click()
})

test('an invalid client form shows field errors, from the browser and from the server', async () => {
  await nav(page, 'Clients').click()
  await page.getByText('No clients yet').waitFor()
  await shot(page, '03-clients-empty')
  await page.getByRole('link', { name: 'New client' }).first().click()
  await page.getByRole('heading', { name: 'New client' }).waitFor()
  await shot(page, '04-client-new')

  // Client-side rules: a space in the id, a relative redirect URI.
  await page.getByLabel('Client ID').fill('has space')
  await page.getByRole('button', { name: 'Add a redirect URI' }).click()
  await page.getByLabel('redirect URI 1').fill('callback')
  await page.getByRole('button', { name: 'Create client' }).click()
  await page.getByText('Use printable characters without spaces').waitFor()
  await page.getByText('is not an absolute URI').waitFor()
  assert.equal(await page.getByLabel('Client ID').getAttribute('aria-invalid'), 'true')
  await page.getByTestId('form-error').waitFor()
  await shot(page, '05-client-invalid')

  // A rule only the server knows: the id is taken. Create one, then try again with the same id.
  await page.getByLabel('Client ID').fill(CLIENT)
  await page.getByLabel('Remove callback').click()
  await page.getByLabel('Name').fill('Books service')
  await page.getByLabel('Client secret').fill(SECRET)
  await page.locator('[data-scope="read_books"]').click()
  await page.locator('[data-scope="write_books"]').click()
  assert.equal(await page.locator('[data-scope="read_books"]').getAttribute('aria-pressed'), 'true')
  await page.getByRole('button', { name: 'Create client' }).click()
  await page.waitForURL(`**/admin/clients/${CLIENT}`)
  await page.getByRole('button', { name: 'Save changes' }).waitFor()
  // The confirmation toast covers none of the page's actions, and its link works at once
  // (Playwright's click fails if something else would receive the click).
  const toast = page.locator('.toast', { hasText: 'Client created' })
  await toast.waitFor()
  // The new client's page opens at its top, not at the scroll offset of the form's foot.
  assert.equal(await scrollY(page), 0)
  const tokensLink = page.getByRole('link', { name: 'See its tokens' })
  assert.ok(!overlaps(await toast.boundingBox(), await tokensLink.boundingBox()), 'the toast covers "See its tokens"')
  // And a toast never takes a click meant for what is under it.
  const toastTakesClicks = await page.evaluate(() => {
    const r = document.querySelector('.toast').getBoundingClientRect()
    return !!document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)?.closest('.toasts')
  })
  assert.equal(toastTakesClicks, false, 'the toast intercepts clicks')
  await shot(page, '06-client-edit')
  await tokensLink.click({ timeout: 2000 })
  await page.waitForURL(`**/admin/tokens?client_id=${CLIENT}`)
  assert.equal(await page.getByRole('combobox', { name: 'Client' }).inputValue(), CLIENT)
  await page.goBack()
  await page.getByRole('button', { name: 'Save changes' }).waitFor()

  const list = await (await fetch(`${server.base}/admin/api/clients/${CLIENT}`)).json()
  assert.deepEqual([...list.scopes].sort(), ['read_books', 'write_books'])
  assert.equal(list.client_secret, SECRET)

  // The server's field error lands on the field: a redirect URI with a fragment is caught
  // client-side, so use one the server refuses: a scope that no longer exists is not
  // choosable, so try a duplicate id instead (409, shown above the form).
  await page.goto(url('clients/new'))
  await page.getByLabel('Client ID').fill(CLIENT)
  await page.getByRole('button', { name: 'Create client' }).click()
  await page.getByTestId('form-error').getByText('already exists').waitFor()

  await page.goto(url('clients'))
  await page.getByText('Books service').waitFor()
  await shot(page, '07-clients-list')
})

test('a token obtained by an app appears live, decodes, and is revoked from the UI', async () => {
  await page.goto(url('tokens'))
  await page.getByText('Waiting for the first token').waitFor()
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor()
  await shot(page, '08-tokens-empty')

  const t = await tokenFor('read_books write_books')
  const payload = JSON.parse(Buffer.from(t.access_token.split('.')[1], 'base64url').toString())
  const started = Date.now()
  const row = page.locator(`tr[data-token-id="${payload.jti}"]`)
  await row.waitFor({ timeout: 2000 })
  const elapsed = Date.now() - started
  assert.ok(elapsed < 2000, `the token row appeared after ${elapsed} ms`)
  assert.equal(await row.getByTestId('status-badge').getAttribute('data-state'), 'active')
  // A second token, so the table has more than one row in the screenshots.
  await tokenFor('read_books')
  await page.locator('tr[data-token-id]').nth(1).waitFor({ timeout: 2000 })
  await page.waitForTimeout(2300)
  await shot(page, '09-tokens-live')

  await darkPage.goto(url('tokens'))
  await darkPage.locator(`tr[data-token-id="${payload.jti}"]`).waitFor()
  await shot(darkPage, '10-tokens-dark')

  await row.click()
  await page.waitForURL(`**/admin/tokens/${payload.jti}`)
  const claims = page.getByTestId('payload')
  await claims.locator('tr[data-claim="scope"]').getByText('read_books write_books').waitFor()
  await claims.locator('tr[data-claim="client_id"]').getByText(CLIENT).waitFor()
  await claims.getByTestId('time-exp').waitFor()
  await page.getByTestId('introspection-active').getByText('active: true').waitFor()
  await page.getByTestId('introspection').getByText('"active": true').waitFor()
  await page.getByTestId('signature').getByText('Verified', { exact: true }).waitFor()
  await shot(page, '11-token-view')

  await darkPage.goto(url(`tokens/${payload.jti}`))
  await darkPage.getByTestId('introspection-active').getByText('active: true').waitFor()
  await shot(darkPage, '12-token-view-dark')

  await page.getByRole('button', { name: 'Revoke' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click()
  await page.locator('header [data-testid="status-badge"][data-state="revoked"]').waitFor({ timeout: 3000 })
  await page.getByTestId('introspection-active').getByText('active: false').waitFor({ timeout: 3000 })
  assert.equal((await introspect(t.access_token)).active, false)
  await shot(page, '13-token-revoked')

  // The list turned the badge too, without a reload.
  await nav(page, 'Tokens').click()
  await page.locator(`tr[data-token-id="${payload.jti}"] [data-state="revoked"]`).waitFor()

  // The dark page's list (another tab) got the revocation by SSE.
  await darkPage.goto(url('tokens'))
  await darkPage.locator(`tr[data-token-id="${payload.jti}"] [data-state="revoked"]`).waitFor()
})

test('any token can be pasted and inspected', async () => {
  await page.goto(url('tokens/inspect'))
  await page.getByRole('heading', { name: 'Inspect a token' }).waitFor()
  const t = await tokenFor('write_books')
  await page.getByRole('textbox', { name: 'Token' }).fill(t.access_token)
  await page.getByRole('button', { name: 'Inspect' }).click()
  await page.getByTestId('signature').getByText('Verified', { exact: true }).waitFor()
  await page.getByTestId('introspection-active').getByText('active: true').waitFor()
  await shot(page, '14-inspect')
  await page.getByRole('textbox', { name: 'Token' }).fill('not-a-token')
  await page.getByRole('button', { name: 'Inspect' }).click()
  await page.getByText('is neither a JWT nor a token issued by this server').waitFor()
})

test('users are created with standard and extra claims', async () => {
  await page.goto(url('users'))
  await page.getByText('No users yet').waitFor()
  await page.getByRole('link', { name: 'New user' }).first().click()
  await page.getByLabel('Username', { exact: true }).fill('alice')
  await page.getByLabel('Password', { exact: true }).fill('alice-password')
  await page.locator('#std-name').fill('Alice Liddell')
  await page.locator('#std-email').fill('alice@example.com')
  await page.getByLabel('Email verified').check()
  await page.getByLabel('JSON object').fill('{ "roles": ["admin"')
  await page.getByRole('button', { name: 'Create user' }).click()
  await page.getByText('Not valid JSON').waitFor()
  await page.getByLabel('JSON object').fill('{ "roles": ["admin"], "tenant": "acme" }')
  await page.getByRole('button', { name: 'Create user' }).click()
  await page.waitForURL('**/admin/users/alice')
  await shot(page, '15-user-edit')
  await page.goto(url('users'))
  await page.getByText('Alice Liddell').waitFor()
  await shot(page, '16-users')
  const u = await (await fetch(`${server.base}/admin/api/users/alice`)).json()
  assert.deepEqual(u.claims.roles, ['admin'])
  assert.equal(u.has_password, true)
})

test('a new page opens at the top, and back returns to where you were', async () => {
  await page.goto(url(`clients/${CLIENT}`))
  await page.getByRole('button', { name: 'Save changes' }).waitFor()
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight))
  const deep = await scrollY(page)
  assert.ok(deep > 200, `the client form is long enough to scroll (${deep})`)
  await nav(page, 'Scopes').click()
  await page.locator('[data-scope-row="read_books"]').waitFor()
  assert.equal(await scrollY(page), 0)
  await page.goBack()
  await page.getByRole('button', { name: 'Save changes' }).waitFor()
  await page.waitForFunction((y) => Math.abs(window.scrollY - y) < 2, deep, { timeout: 2000 })
})

test('the request log, keys, scopes, settings and overview pages render with data', async () => {
  await page.goto(url('requests'))
  await page.getByTestId('requests-table').waitFor()
  await page.locator('[data-testid="requests-table"] tbody tr').first().click()
  await page.getByText('Reproduce with curl').waitFor()
  await shot(page, '17-requests')

  await page.goto(url('keys'))
  await page.getByRole('button', { name: 'Rotate now' }).click()
  await page.locator('tbody tr').nth(1).waitFor()
  await shot(page, '18-keys')

  await page.goto(url('scopes'))
  await page.locator('[data-scope-row="read_books"]').getByText(CLIENT).waitFor()
  await shot(page, '19-scopes')

  await page.goto(url('settings'))
  await page.getByLabel('Access token', { exact: true }).waitFor()
  await page.getByLabel('Access token', { exact: true }).fill('soon')
  // Fields are checked when the form is submitted (not on blur), then as they change.
  await page.getByRole('button', { name: 'Save settings' }).click()
  await page.getByText('Write seconds or a duration').waitFor()
  await page.getByLabel('Access token', { exact: true }).fill('30m')
  await page.getByRole('button', { name: 'Save settings' }).click()
  await page.getByText('Settings saved').waitFor()
  await shot(page, '20-settings')

  await page.goto(url(''))
  await page.getByText('Books service').first().waitFor()
  await shot(page, '21-overview')
  assert.deepEqual(page.errors, [])
})

test('the pages in the dark theme', async () => {
  const errors = []
  darkPage.on('pageerror', (e) => errors.push(e.message))
  darkPage.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text())
  })
  await darkPage.goto(url(''))
  await darkPage.getByText('Books service').first().waitFor()
  await shot(darkPage, '22-dark-overview')

  await darkPage.goto(url(`clients/${CLIENT}`))
  await darkPage.getByRole('button', { name: 'Save changes' }).waitFor()
  await shot(darkPage, '23-dark-client-edit')

  await darkPage.goto(url('scopes'))
  await darkPage.locator('[data-scope-row="read_books"]').waitFor()
  await shot(darkPage, '24-dark-scopes')

  await darkPage.goto(url('users/alice'))
  await darkPage.getByRole('button', { name: 'Save changes' }).waitFor()
  await shot(darkPage, '25-dark-user-edit')

  await darkPage.goto(url('requests'))
  await darkPage.locator('[data-testid="requests-table"] tbody tr').first().click()
  await darkPage.getByText('Reproduce with curl').waitFor()
  await shot(darkPage, '26-dark-requests')

  await darkPage.goto(url('keys'))
  await darkPage.locator('tbody tr').nth(1).waitFor()
  await shot(darkPage, '27-dark-keys')

  await darkPage.goto(url('settings'))
  await darkPage.getByLabel('Access token', { exact: true }).waitFor()
  await shot(darkPage, '28-dark-settings')
  assert.deepEqual(errors, [])
})

test('another site cannot frame the admin UI or the login page', async () => {
  // A page on another origin (a second loopback server) frames Latchkey's pages.
  const { createServer } = await import('node:http')
  const site = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' })
    res.end(`<!doctype html><iframe id="ui" src="${url('')}"></iframe><iframe id="login" src="${server.base}/authorize?client_id=nobody"></iframe>`)
  })
  await new Promise((r) => site.listen(0, '127.0.0.1', r))
  const framer = await browser.newPage()
  try {
    await framer.goto(`http://127.0.0.1:${site.address().port}/`)
    // goto waits for the load event, which waits for both frames (blocked or not).
    for (const f of framer.frames().filter((f) => f !== framer.mainFrame())) {
      // A blocked frame is Chromium's error page: none of Latchkey's content is there.
      const text = await f.evaluate(() => `${document.title} ${document.body?.innerText ?? ''}`).catch(() => '')
      assert.ok(!/Latchkey|Overview|Unknown client/.test(text), `framed content visible in ${f.url()}: ${text.slice(0, 200)}`)
    }
    assert.equal(framer.frames().length, 3)
  } finally {
    await framer.close()
    site.close()
  }
})
