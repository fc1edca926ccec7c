// Protected resources as a new user meets them, against a real `latchkey serve` in Debian's
// Chromium: create a resource in the UI, find out why a token is refused (the failing row and
// its fix), and watch a call made from outside (plain fetch, as an app's test would) arrive
// live in the resource's call list. Screenshots of every resource page at 1366x850 and
// 1024x700, light and dark, go to test-results/screenshots/.

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

/** The current state of `page`, at both sizes, in both themes; back to 1366 light after. */
async function shots(name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme })
    for (const [label, size] of SIZES) {
      await page.setViewportSize(size)
      await shot(page, `res-${name}-${label}-${scheme}`)
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

/** A client-credentials token; `jti` is its id in the token store. */
async function tokenFor(client, secret, scope) {
  const r = await fetch(`${server.base}/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${client}:${secret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  })
  assert.equal(r.status, 200, await r.clone().text())
  const t = await r.json()
  const payload = JSON.parse(Buffer.from(t.access_token.split('.')[1], 'base64url').toString())
  return { token: t.access_token, jti: payload.jti }
}

before(async () => {
  server = await startServer()
  browser = await launch()
  const ctx = await browser.newContext({ viewport: SIZES[0][1], colorScheme: 'light' })
  page = await ctx.newPage()
  page.on('pageerror', (e) => errors.push(e.message))
  // What a developer already has: the API's scopes, and two apps. `web-app` gets tokens for
  // itself (aud = its client id); `books-client` is registered for the books API's audience.
  for (const [name, description] of [['read_books', 'Read the book catalogue'], ['add_books', 'Add books']]) {
    await admin('POST', '/scopes', { name, description, claims: [] })
  }
  const client = (client_id, audiences) => ({
    client_id, client_secret: `${client_id}-secret`, name: client_id, redirect_uris: [], post_logout_redirect_uris: [],
    grant_types: ['client_credentials'], scopes: ['read_books', 'add_books'], audiences, require_consent: false,
  })
  await admin('POST', '/clients', client('web-app', []))
  await admin('POST', '/clients', client('books-client', ['books-api']))
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

test('with no resource yet, the page explains what one is and offers the books example', async () => {
  await page.goto(url(''))
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Resources/ }).click()
  await page.getByRole('heading', { name: 'Resources', exact: true }).waitFor()
  await page.getByText('No protected resource yet').waitFor()
  await page.getByText("protected_resource_view(['read_books'])").waitFor()
  await shots('01-empty')
})

test('a resource is created from the form, with a rule, and the server refuses a bad one at the field', async () => {
  await page.getByRole('link', { name: 'Add resource: books / read_books' }).click()
  await page.getByRole('heading', { name: 'New resource' }).waitFor()
  // The example is filled in: name, audience, required scope, a POST rule needing add_books.
  assert.equal(await page.getByLabel('Name', { exact: true }).inputValue(), 'books')
  assert.equal(await page.getByLabel('audience 1').inputValue(), 'books-api')
  assert.equal(await page.locator('#required_scopes [data-scope="read_books"]').getAttribute('aria-pressed'), 'true')
  assert.equal(await page.getByLabel('Rule 1 path').inputValue(), '/books/*')
  assert.equal(await page.locator('#rules-0-scopes [data-scope="add_books"]').getAttribute('aria-pressed'), 'true')
  // The profile shows what it checks; the expectations show the profile's values as placeholders.
  const profiles = await admin('GET', '/resource-profiles')
  assert.ok(profiles.length >= 2, 'the server lists profiles')
  const def = profiles.find((p) => p.name === 'latchkey') ?? profiles[0]
  await page.getByTestId('profile-card').getByText(def.description).waitFor()
  const strict = profiles.find((p) => p.name === 'rfc9068') ?? profiles.find((p) => p !== def)
  await page.getByLabel('Profile').selectOption(strict.name)
  await page.getByTestId('profile-card').getByText(strict.description).waitFor()
  await page.getByTestId('profile-card').getByText(strict.checks[0]).waitFor()
  await shots('02-new')

  // Browser-side rules first: a path without its leading slash.
  await page.getByLabel('Rule 1 path').fill('books/*')
  await page.getByRole('button', { name: 'Create resource' }).click()
  await page.getByText('Start the path with /').waitFor()
  await page.getByLabel('Rule 1 path').fill('/books/*')
  await page.getByLabel('Profile').selectOption('')

  // A rule only the server knows lands at its field: HMAC cannot be verified with a JWKS.
  await page.getByLabel('Algorithms').fill('RS256, HS256')
  await page.getByRole('button', { name: 'Create resource' }).click()
  await page.getByTestId('form-error').waitFor()
  const algError = page.locator('#algorithms-error')
  await algError.getByText('HS256').waitFor()
  assert.match(await algError.innerText(), /Item 2/)
  assert.equal(await page.getByLabel('Algorithms').getAttribute('aria-invalid'), 'true')
  await shots('02b-new-field-error')
  await page.getByLabel('Algorithms').fill('')

  await page.getByRole('button', { name: 'Create resource' }).click()
  await page.waitForURL('**/admin/resources/books')
  await page.getByTestId('identifier').getByText(`${server.base}/resources/books`).waitFor()
  const saved = await admin('GET', '/resources/books')
  assert.equal(saved.audience, 'books-api')
  assert.deepEqual(saved.required_scopes, ['read_books'])
  assert.deepEqual(saved.rules, [{ method: 'POST', path: '/books/*', scopes: ['add_books'] }])

  // Another: the name is taken (shown above the form).
  await page.goto(url('resources/new'))
  await page.getByLabel('Name', { exact: true }).fill('books')
  await page.getByRole('button', { name: 'Create resource' }).click()
  await page.getByTestId('form-error').waitFor()
  await page.getByTestId('form-error').getByText(/already exists|exists/).waitFor()
})

test('a token for the wrong audience is refused, and the verdict names the check and the fix', async () => {
  await page.goto(url('resources/books'))
  await page.getByRole('heading', { name: 'books', exact: true }).waitFor()
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor()
  await page.getByText('No calls yet').waitFor()
  await shots('03-resource-empty')

  // web-app's token: right scopes, but aud is web-app. It reaches the picker live.
  const wrong = await tokenFor('web-app', 'web-app-secret', 'read_books')
  const picker = page.getByLabel('Recent access token')
  await picker.locator(`option[value="${wrong.jti}"]`).waitFor({ state: 'attached', timeout: 3000 })
  await picker.selectOption(wrong.jti)
  await page.getByRole('button', { name: 'Check only' }).click()
  const summary = page.getByTestId('verdict-summary')
  await summary.waitFor()
  assert.equal(await summary.getAttribute('data-allowed'), 'false')
  const first = page.locator('[data-testid="verdict-table"] tr.first-failure')
  assert.equal(await first.getAttribute('data-check'), 'aud')
  assert.equal(await page.locator('[data-testid="verdict-table"] tr.first-failure').count(), 1)
  assert.match(await first.getByTestId('fix').innerText(), /\S/, 'the failing row says how to fix it')
  await summary.getByText(/^Refused · 401\b/).waitFor()
  assert.equal(await page.getByTestId('calls-table').count(), 0, 'a check records no call')

  // Send it for real: the same verdict, the response, and a recorded call, live.
  await page.getByRole('button', { name: 'Send' }).click()
  await page.getByTestId('response-status').getByText('401').waitFor()
  assert.equal(await page.locator('[data-testid="verdict-table"] tr.first-failure').getAttribute('data-check'), 'aud')
  await page.getByText('The same call with curl').waitFor()
  const curl = await page.locator('[data-testid="try-result"] pre').last().innerText()
  assert.match(curl, new RegExp(`curl -i ${server.base}/resources/books/ `))
  assert.ok(curl.includes(wrong.token), 'the curl command carries the picked token')
  await page.locator('[data-testid="calls-table"] tbody tr[data-call-id]').first().waitFor({ timeout: 3000 })
  await shots('04-tryit-refused')
})

test('a token lacking a rule\'s scope gets 403 insufficient_scope with the missing scope', async () => {
  const t = await tokenFor('books-client', 'books-client-secret', 'read_books')
  const picker = page.getByLabel('Recent access token')
  await picker.locator(`option[value="${t.jti}"]`).waitFor({ state: 'attached', timeout: 3000 })
  await picker.selectOption(t.jti)
  await page.getByRole('button', { name: 'POST /books/*' }).click()
  assert.equal(await page.getByLabel('Path', { exact: true }).inputValue(), '/books/1')
  await page.getByRole('button', { name: 'Check only' }).click()
  const first = page.locator('[data-testid="verdict-table"] tr.first-failure')
  await page.getByTestId('verdict-summary').getByText(/^Refused · 403\b/).waitFor()
  const check = await first.getAttribute('data-check')
  assert.match(check, /scope/)
  assert.match(await first.innerText(), /add_books/)
  await page.getByTestId('verdict-summary').getByText('insufficient_scope', { exact: true }).waitFor()
})

test('a call made from outside the UI arrives live in the call list, expandable to its verdict', async () => {
  const t = await tokenFor('books-client', 'books-client-secret', 'read_books add_books')
  const before = await page.locator('[data-testid="calls-table"] tbody tr[data-call-id]').count()
  const started = Date.now()
  const r = await fetch(`${server.base}/resources/books/books`, { headers: { Authorization: `Bearer ${t.token}` } })
  assert.equal(r.status, 200, await r.clone().text())
  const rows = page.locator('[data-testid="calls-table"] tbody tr[data-call-id]')
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="calls-table"] tbody tr[data-call-id]').length > n, before, { timeout: 2000 })
  const elapsed = Date.now() - started
  assert.ok(elapsed < 2000, `the call appeared after ${elapsed} ms`)
  const row = rows.first()
  await row.locator('[data-status="200"]').waitFor()
  await row.getByText('GET').waitFor()
  assert.equal(await row.locator('td').nth(4).innerText(), 'books-client')
  // And one refused call from outside, without a token: 401 with a bare challenge.
  const bare = await fetch(`${server.base}/resources/books/books`)
  assert.equal(bare.status, 401)
  assert.match(bare.headers.get('www-authenticate') ?? '', /^Bearer realm=/)
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="calls-table"] tbody tr[data-call-id]').length > n + 1, before, { timeout: 2000 })
  await rows.nth(1).getByRole('button', { name: 'Expand' }).click()
  await page.locator('[data-testid="calls-table"] [data-testid="verdict-summary"][data-allowed="true"]').waitFor()
  await page.waitForTimeout(2300) // the fresh-row highlight fades
  await shots('05-calls-live')
})

test('the request log shows the verdict of a call to a resource', async () => {
  await page.goto(url('requests'))
  const row = page.locator('[data-testid="requests-table"] tbody tr', { hasText: '/resources/books/books' }).filter({ hasText: '401' }).first()
  await row.waitFor()
  await row.getByText('verdict:').waitFor()
  await row.click()
  const v = page.getByTestId('request-verdict')
  await v.waitFor()
  assert.equal(await v.getByTestId('verdict-summary').getAttribute('data-allowed'), 'false')
  await shots('05b-request-log-verdict')
})

test('the list shows each resource with its last call', async () => {
  await page.goto(url('resources'))
  const row = page.locator('tr[data-resource="books"]')
  await row.waitFor()
  await row.getByText('books-api').waitFor()
  await row.getByText('read_books').waitFor()
  await row.locator('[data-status]').first().waitFor()
  await shots('06-list')
})

test('the edit form shows the resource, with the profile\'s values as placeholders', async () => {
  await page.goto(url('resources/books/edit'))
  await page.getByRole('heading', { name: 'Edit books' }).waitFor()
  assert.equal(await page.getByLabel('Name', { exact: true }).getAttribute('readonly'), '')
  await page.getByLabel('Leeway').fill('soon')
  // Checked when saving (not on blur), then as the field changes.
  await page.getByRole('button', { name: 'Save changes' }).click()
  await page.getByText('Write seconds or a duration').waitFor()
  await page.getByLabel('Leeway').fill('30s')
  await page.getByRole('button', { name: 'Save changes' }).click()
  await page.waitForURL('**/admin/resources/books')
  assert.equal((await admin('GET', '/resources/books')).leeway, 30)
  await page.goto(url('resources/books/edit'))
  await page.getByRole('heading', { name: 'Edit books' }).waitFor()
  await shots('07-edit')
})

test('an API expecting the issuer with a trailing slash: the iss row marks the difference', async () => {
  await page.goto(url('resources/books/edit'))
  await page.getByLabel('Expected issuer').fill(`${server.base}/`)
  await page.getByRole('button', { name: 'Save changes' }).click()
  await page.waitForURL('**/admin/resources/books')
  const t = await tokenFor('books-client', 'books-client-secret', 'read_books')
  const picker = page.getByLabel('Recent access token')
  await picker.locator(`option[value="${t.jti}"]`).waitFor({ state: 'attached', timeout: 3000 })
  await picker.selectOption(t.jti)
  await page.getByLabel('Path', { exact: true }).fill('/books')
  await page.getByRole('button', { name: 'Check only' }).click()
  const first = page.locator('[data-testid="verdict-table"] tr.first-failure')
  await first.waitFor()
  assert.equal(await first.getAttribute('data-check'), 'iss')
  // Expected has the slash, the token's iss has none: the slash is marked on one side, a gap on the other.
  assert.equal(await first.locator('td.cmp').nth(0).locator('mark.diff').innerText(), '/')
  assert.equal(await first.locator('td.cmp').nth(1).locator('mark.diff.gap').count(), 1)
  await shots('07b-iss-trailing-slash')

  // Back to the default: the field left empty means Latchkey's issuer.
  await page.goto(url('resources/books/edit'))
  await page.getByLabel('Expected issuer').fill('')
  await page.getByRole('button', { name: 'Save changes' }).click()
  await page.waitForURL('**/admin/resources/books')
  assert.equal((await admin('GET', '/resources/books')).expected_issuer, undefined)
})

test('a token\'s page checks it against a resource, inline', async () => {
  const t = await tokenFor('web-app', 'web-app-secret', 'read_books')
  await page.goto(url(`tokens/${t.jti}`))
  await page.getByRole('button', { name: 'Check against a resource' }).click()
  const panel = page.getByRole('region', { name: 'Check against a resource' })
  await panel.getByLabel('Resource', { exact: true }).selectOption('books')
  await panel.getByLabel('Path', { exact: true }).fill('/books')
  await panel.getByRole('button', { name: 'Check', exact: true }).click()
  await panel.getByTestId('check-verdict').waitFor()
  assert.equal(await panel.locator('tr.first-failure').getAttribute('data-check'), 'aud')
  await panel.getByTestId('check-verdict').scrollIntoViewIfNeeded()
  await shots('08-token-check')
})

test('the Inspect page checks a pasted token against any resource', async () => {
  const t = await tokenFor('books-client', 'books-client-secret', 'read_books')
  await page.goto(url('tokens/inspect'))
  await page.getByRole('textbox', { name: 'Token' }).fill(t.token)
  await page.getByRole('button', { name: 'Inspect' }).click()
  const panel = page.getByRole('region', { name: 'Check against a resource' })
  await panel.getByRole('button', { name: 'Check', exact: true }).click()
  await panel.getByTestId('verdict-summary').waitFor()
  assert.equal(await panel.getByTestId('verdict-summary').getAttribute('data-allowed'), 'true')
  assert.equal(await panel.locator('tr.first-failure').count(), 0)
  await shots('09-inspect-check')

  // Something that is not a token at all still gets a verdict (its format row fails).
  await page.getByRole('textbox', { name: 'Token' }).fill('not-a-token')
  await page.getByRole('button', { name: 'Inspect' }).click()
  await panel.getByRole('button', { name: 'Check', exact: true }).click()
  await panel.getByTestId('verdict-summary').waitFor()
  assert.equal(await panel.getByTestId('verdict-summary').getAttribute('data-allowed'), 'false')
  assert.deepEqual(errors, [])
})
