// Pushed authorization requests (RFC 9126) and resource indicators (RFC 8707) in the GUI: the
// Requests page links a push to the authorization requests that used its request_uri; the
// client form has "require PAR" and the resources a client may request; Settings has the
// request_uri lifetime and the server-wide switch; a token obtained with `resource` shows the
// resource as its aud. Screenshots at 1366x850 and 1024x700, light and dark, go to
// test-results/screenshots/ (par-*).

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { launch, shot, startServer } from './harness.mjs'

const CONFIG = `
[[scopes]]
name = "read_books"

[[resources]]
name = "books"
required_scopes = ["read_books"]

[[clients]]
client_id = "web"
client_secret = "web-secret-e2e"
name = "Books web app"
redirect_uris = ["http://localhost:3000/callback"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]
scopes = ["openid", "profile", "read_books"]
require_pushed_authorization_requests = true
allowed_resources = ["https://api.example.com/"]

[[users]]
username = "alice"
password = "alice-pw"
`

const SIZES = [['1366', { width: 1366, height: 850 }], ['1024', { width: 1024, height: 700 }]]
const THEMES = ['light', 'dark']
const BASIC = `Basic ${Buffer.from('web:web-secret-e2e').toString('base64')}`

let server
let browser
const pages = {}

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lk-par-'))
  const cfg = path.join(dir, 'latchkey.toml')
  writeFileSync(cfg, CONFIG)
  server = await startServer(['--config', cfg])
  browser = await launch()
  for (const [size, viewport] of SIZES) {
    for (const theme of THEMES) {
      const ctx = await browser.newContext({ viewport, colorScheme: theme })
      const pg = await ctx.newPage()
      pg.errors = []
      pg.on('pageerror', (e) => pg.errors.push(e.message))
      pages[`${size}-${theme}`] = pg
    }
  }
})

after(async () => {
  for (const pg of Object.values(pages)) assert.deepEqual(pg.errors, [], 'no page errors')
  await browser?.close()
  await server?.stop()
})

async function form(pathname, params, headers = {}) {
  const r = await fetch(`${server.base}${pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params),
  })
  return [r.status, await r.json()]
}

async function noOverflow(pg, name) {
  const overflow = await pg.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
  assert.ok(overflow <= 0, `${name}: the page scrolls sideways by ${overflow}px`)
}

test('the Requests page links a push to the authorization requests that used it', async () => {
  const resource = 'https://api.example.com/'
  const [status, pushed] = await form(
    '/par',
    { response_type: 'code', redirect_uri: 'http://localhost:3000/callback', scope: 'openid read_books', state: 'e2e', resource },
    { authorization: BASIC },
  )
  assert.equal(status, 201, JSON.stringify(pushed))
  const authorize = `${server.base}/authorize?${new URLSearchParams({ client_id: 'web', request_uri: pushed.request_uri })}`
  const first = await fetch(authorize, { redirect: 'manual' })
  assert.equal(first.status, 200)
  const reuse = await fetch(authorize, { redirect: 'manual' })
  assert.match(reuse.headers.get('location') ?? '', /error=invalid_request_uri/)

  for (const [key, pg] of Object.entries(pages)) {
    await pg.goto(`${server.base}/admin/requests`)
    await pg.locator('[data-testid="connection"][data-state="live"]').waitFor()
    const parRow = pg.locator('tr', { hasText: 'POST /par' })
    await parRow.first().click()
    const line = pg.getByTestId('request-pushed').first()
    await line.waitFor()
    assert.match(await line.innerText(), /Used by \/authorize/)
    const links = line.getByTestId('push-link')
    assert.equal(await links.count(), 2, 'both authorization requests are linked')
    // Following the link opens the authorization request, which links back.
    await links.first().click()
    const back = pg.getByTestId('request-pushed').filter({ hasText: 'were pushed in' })
    await back.first().waitFor()
    await noOverflow(pg, `requests at ${key}`)
    await shot(pg, `par-requests-${key}`)
  }
})

test('the client form, Settings, and a token for a resource', async () => {
  const [status, tok] = await form('/token', { grant_type: 'client_credentials', resource: 'https://api.example.com/' }, { authorization: BASIC })
  assert.equal(status, 200, JSON.stringify(tok))
  const jti = JSON.parse(Buffer.from(tok.access_token.split('.')[1], 'base64url').toString()).jti
  for (const [key, pg] of Object.entries(pages)) {
    await pg.goto(`${server.base}/admin/clients/web`)
    const require = pg.getByLabel(/Require pushed authorization requests/)
    await require.waitFor()
    assert.equal(await require.isChecked(), true)
    const resources = pg.getByRole('group', { name: 'Allowed resources' })
    assert.equal(await resources.locator('input').first().inputValue(), 'https://api.example.com/')
    await noOverflow(pg, `client at ${key}`)
    await shot(pg, `par-client-${key}`)

    await pg.goto(`${server.base}/admin/settings`)
    const ttl = pg.locator('#request_uri_ttl')
    await ttl.waitFor()
    assert.match(await ttl.inputValue(), /^(60s?|1m)$/)
    assert.equal(await pg.getByLabel(/Require PAR for every client/).isChecked(), false)
    await noOverflow(pg, `settings at ${key}`)
    await shot(pg, `par-settings-${key}`)

    await pg.goto(`${server.base}/admin/tokens/${jti}`)
    await pg.getByText('https://api.example.com/').first().waitFor()
    await noOverflow(pg, `token at ${key}`)
    await shot(pg, `par-token-${key}`)
  }
})

test('Try the login pushes the request first for a client that requires PAR', async () => {
  const page = pages['1366-light']
  await page.goto(`${server.base}/admin/clients/web`)
  await page.getByRole('button', { name: 'Register the callback on this client' }).click()
  const tryButton = page.getByTestId('try-login')
  await tryButton.waitFor()
  await page.getByLabel('login_hint').fill('alice')
  const [popup] = await Promise.all([page.waitForEvent('popup'), tryButton.click()])
  await popup.locator('input[name="password"]').waitFor({ timeout: 10_000 })
  // Only client_id and the request_uri went through the browser.
  const opened = new URL(popup.url())
  assert.deepEqual([...opened.searchParams.keys()].sort(), ['client_id', 'request_uri'])
  await popup.locator('input[name="password"]').fill('alice-pw')
  const username = popup.locator('input[name="username"]')
  if (!(await username.inputValue())) await username.fill('alice')
  await Promise.all([popup.waitForEvent('close', { timeout: 10_000 }), popup.getByRole('button', { name: 'Sign in' }).click()])
  await page.locator('[data-testid="try-result"][data-ok="true"]').waitFor({ timeout: 10_000 })
  const steps = await page.getByTestId('steps').innerText()
  assert.match(steps, /Push the authorization request \(RFC 9126\)/)
  assert.match(steps, /\/par/)
  await shot(page, 'par-try-login-1366-light')
})
