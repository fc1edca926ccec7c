// The Devices page: device authorization requests (RFC 8628) appear live as a device asks for
// a code, with a QR code of verification_uri_complete, and are approved or denied from the GUI
// while the device polls over HTTP. Screenshots at 1366x850 and 1024x700, light and dark, go
// to test-results/screenshots/ (devices-*).

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { launch, shot, startServer } from './harness.mjs'
import { recordOf, token } from './oauth.mjs'

const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code'
const CONFIG = `
[[scopes]]
name = "read_books"

[[clients]]
client_id = "tv"
name = "Living-room TV"
token_endpoint_auth_method = "none"
grant_types = ["${DEVICE}", "refresh_token"]
scopes = ["openid", "profile", "read_books"]

[[clients]]
client_id = "cli"
name = "Books CLI"
token_endpoint_auth_method = "none"
grant_types = ["${DEVICE}"]
scopes = ["read_books"]

[[clients]]
client_id = "app"
client_secret = "app-secret-e2e"
grant_types = ["password", "refresh_token"]
scopes = ["openid", "read_books"]

[[clients]]
client_id = "gateway"
client_secret = "gateway-secret-e2e"
name = "API gateway"
grant_types = ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]
scopes = ["read_books"]
token_exchange = { audiences = ["books-api"], allow_impersonation = false }

[[users]]
username = "alice"
password = "alice-pw"
claims = { name = "Alice Liddell" }

[[users]]
username = "bob"
claims = { name = "Bob" }
`

const SIZES = [['1366', { width: 1366, height: 850 }], ['1024', { width: 1024, height: 700 }]]
const THEMES = ['light', 'dark']

let server
let browser
const pages = {}
let page

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lk-devices-'))
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
  page = pages['1366-light']
})

after(async () => {
  for (const pg of Object.values(pages)) assert.deepEqual(pg.errors, [], 'no page errors')
  await browser?.close()
  await server?.stop()
})

async function startDevice(clientId, scope) {
  const r = await fetch(`${server.base}/device_authorization`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clientId, scope }),
  })
  const body = await r.json()
  assert.equal(r.status, 200, JSON.stringify(body))
  return body
}

async function poll(clientId, deviceCode) {
  const r = await fetch(`${server.base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: DEVICE, device_code: deviceCode, client_id: clientId }),
  })
  return [r.status, await r.json()]
}

/** Every size and theme: open the page, wait for `ready`, check nothing overflows, shoot. */
async function everywhere(name, ready) {
  for (const [key, pg] of Object.entries(pages)) {
    if (!pg.url().endsWith('/admin/devices')) await pg.goto(`${server.base}/admin/devices`)
    await pg.locator('[data-testid="connection"][data-state="live"]').waitFor()
    await ready(pg)
    const overflow = await pg.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    assert.ok(overflow <= 0, `${name} at ${key}: the page scrolls sideways by ${overflow}px`)
    await shot(pg, `devices-${name}-${key}`)
  }
}

test('device requests appear live with a QR code and are approved and denied from the GUI', async () => {
  await everywhere('empty', (pg) => pg.getByText('No device is waiting').waitFor())
  assert.match(await page.getByTestId('device-example').innerText(), /device_authorization/)

  // A device asks: its card appears on every open page without a reload.
  const tv = await startDevice('tv', 'openid read_books')
  const cli = await startDevice('cli', 'read_books')
  await everywhere('pending', async (pg) => {
    await pg.getByTestId(`device-${tv.user_code}`).waitFor()
    await pg.getByTestId(`device-${cli.user_code}`).waitFor()
  })
  const card = page.getByTestId(`device-${tv.user_code}`)
  assert.equal(await card.getByTestId('device-status').getAttribute('data-status'), 'pending')
  assert.equal(
    await card.getByRole('img').getAttribute('aria-label'),
    `QR code of ${tv.verification_uri_complete}`,
  )
  const modules = await card.locator('svg.qr path').getAttribute('d')
  assert.ok(modules && modules.length > 1000, 'the QR code has modules')

  // The device polls: pending; then approve as bob from the GUI.
  assert.equal((await poll('tv', tv.device_code))[1].error, 'authorization_pending')
  await card.getByTestId('device-approve-as').selectOption('bob')
  await card.getByTestId('device-approve').click()
  await card.locator('[data-testid="device-status"][data-status="approved"]').waitFor()
  const [status, tokens] = await poll('tv', tv.device_code)
  assert.equal(status, 200, JSON.stringify(tokens))
  const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString())
  assert.equal(claims.client_id, 'tv')
  // Exchanged: the card says so live, on every page.
  await card.locator('[data-testid="device-status"][data-status="used"]').waitFor()

  // Deny the other one.
  const other = page.getByTestId(`device-${cli.user_code}`)
  await other.getByTestId('device-deny').click()
  await other.locator('[data-testid="device-status"][data-status="denied"]').waitFor()
  assert.equal((await poll('cli', cli.device_code))[1].error, 'access_denied')
  await everywhere('answered', (pg) =>
    pg.locator(`[data-testid="device-${cli.user_code}"] [data-testid="device-status"][data-status="denied"]`).waitFor(),
  )

  // Expiry on the virtual clock removes them from the list.
  const r = await fetch(`${server.base}/admin/api/clock`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ advance: 601 }),
  })
  assert.equal(r.status, 200)
  await page.getByText('No device is waiting').waitFor()
})

test('a token exchange shows in the lineage of the token page, and its policy in the client form', async () => {
  const [s1, user] = await token(server.base, 'app', 'app-secret-e2e', {
    grant_type: 'password', username: 'alice', password: 'alice-pw', scope: 'openid read_books',
  })
  assert.equal(s1, 200, JSON.stringify(user))
  const [s2, actor] = await token(server.base, 'gateway', 'gateway-secret-e2e', { grant_type: 'client_credentials' })
  assert.equal(s2, 200, JSON.stringify(actor))
  const [s3, exchanged] = await token(server.base, 'gateway', 'gateway-secret-e2e', {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    subject_token: user.access_token,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    actor_token: actor.access_token,
    actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    audience: 'books-api',
  })
  assert.equal(s3, 200, JSON.stringify(exchanged))
  const rec = await recordOf(server.base, exchanged.access_token)
  const parent = await recordOf(server.base, user.access_token)
  for (const [key, pg] of Object.entries(pages)) {
    await pg.goto(`${server.base}/admin/tokens/${rec.id}`)
    const lineage = pg.getByTestId('lineage')
    await lineage.waitFor()
    await lineage.locator(`[data-token-id="${rec.id}"]`).waitFor()
    await lineage.locator(`[data-token-id="${parent.id}"]`).waitFor()
    await shot(pg, `devices-exchange-lineage-${key}`)
  }
  assert.match(await page.getByTestId('lineage-exchange').innerText(), /exchanged by gateway, actor gateway/)

  for (const [key, pg] of Object.entries(pages)) {
    await pg.goto(`${server.base}/admin/clients/gateway`)
    const policy = pg.getByTestId('token-exchange-policy')
    await policy.waitFor()
    await policy.scrollIntoViewIfNeeded()
    await shot(pg, `devices-exchange-policy-${key}`)
  }
  assert.ok(await page.getByLabel('Delegation only').isChecked())

  // The client list names the new grants briefly (the full URN is the tag's title).
  for (const [key, pg] of Object.entries(pages)) {
    await pg.goto(`${server.base}/admin/clients`)
    await pg.getByText('token-exchange').first().waitFor()
    const overflow = await pg.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    assert.ok(overflow <= 0, `clients at ${key}: the page scrolls sideways by ${overflow}px`)
    await shot(pg, `devices-clients-${key}`)
  }
})
