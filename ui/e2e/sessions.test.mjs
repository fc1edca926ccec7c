// The Sessions page: a browser signs in through a real authorization flow in Chromium, the
// session appears live with its clients; ending it from the GUI POSTs OpenID Connect
// Back-Channel Logout tokens to the apps' receivers (a Node HTTP server on 127.0.0.1:0) and
// each outcome arrives live; "Send logout now" reaches one client. Screenshots at 1366x850 and
// 1024x700, light and dark, go to test-results/screenshots/ (sessions-*).

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { launch, shot, startServer } from './harness.mjs'

const SIZES = [['1366', { width: 1366, height: 850 }], ['1024', { width: 1024, height: 700 }]]
const THEMES = ['light', 'dark']

let server
let browser
let rp
let rpBase
const received = []
const pages = {}
let page

/** The apps: `/cb` is the redirect URI, `/bc/ok` and `/bc/broken` the logout receivers. */
function startApps() {
  return new Promise((resolve) => {
    const s = createServer((req, res) => {
      let body = ''
      req.on('data', (d) => (body += d))
      req.on('end', () => {
        if (req.url.startsWith('/cb')) {
          res.writeHead(200, { 'content-type': 'text/html' })
          return res.end('<p>Signed in to the app</p>')
        }
        if (!req.url.startsWith('/bc/')) {
          res.writeHead(404)
          return res.end()
        }
        received.push({ path: req.url, type: req.headers['content-type'], token: new URLSearchParams(body).get('logout_token') })
        res.writeHead(req.url === '/bc/ok' ? 204 : 500)
        res.end()
      })
    })
    s.listen(0, '127.0.0.1', () => resolve(s))
  })
}

before(async () => {
  rp = await startApps()
  rpBase = `http://127.0.0.1:${rp.address().port}`
  const dir = mkdtempSync(path.join(tmpdir(), 'lk-sessions-'))
  const cfg = path.join(dir, 'latchkey.toml')
  writeFileSync(cfg, `
[[clients]]
client_id = "shop"
client_secret = "shop-secret-e2e"
name = "Shop"
redirect_uris = ["${rpBase}/cb"]
scopes = ["openid", "profile"]
backchannel_logout_uri = "${rpBase}/bc/ok"
backchannel_logout_session_required = true

[[clients]]
client_id = "blog"
client_secret = "blog-secret-e2e"
name = "Blog"
redirect_uris = ["${rpBase}/cb"]
scopes = ["openid", "profile"]
backchannel_logout_uri = "${rpBase}/bc/broken"

[[clients]]
client_id = "wiki"
client_secret = "wiki-secret-e2e"
name = "Wiki"
redirect_uris = ["${rpBase}/cb"]
scopes = ["openid"]

[[users]]
username = "alice"
password = "alice-pw"
claims = { name = "Alice Liddell" }
`)
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
  rp?.close()
})

/** The end user's browser (its own context): sign in to each client in turn through /authorize. */
async function signIn(ctx, clients) {
  const pg = await ctx.newPage()
  for (const clientId of clients) {
    const q = new URLSearchParams({ client_id: clientId, response_type: 'code', redirect_uri: `${rpBase}/cb`, scope: 'openid', state: 's', nonce: 'n' })
    await pg.goto(`${server.base}/authorize?${q}`)
    if (await pg.getByTestId('login-submit').count()) {
      await pg.locator('input[name="username"]').fill('alice')
      await pg.locator('input[name="password"]').fill('alice-pw')
      await pg.getByTestId('login-submit').click()
    }
    await pg.waitForURL(`${rpBase}/cb**`)
    assert.match(await pg.textContent('body'), /Signed in to the app/)
  }
  return pg
}

async function everywhere(name, ready) {
  for (const [key, pg] of Object.entries(pages)) {
    if (!pg.url().endsWith('/admin/sessions')) await pg.goto(`${server.base}/admin/sessions`)
    await pg.locator('[data-testid="connection"][data-state="live"]').waitFor()
    await ready(pg)
    const overflow = await pg.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    assert.ok(overflow <= 0, `${name} at ${key}: the page scrolls sideways by ${overflow}px`)
    await shot(pg, `sessions-${name}-${key}`)
  }
}

test('a session appears live, ending it sends back-channel logouts whose outcomes arrive live', async () => {
  await everywhere('empty', (pg) => pg.getByText('Nobody is signed in').waitFor())

  const user = await browser.newContext()
  await signIn(user, ['shop', 'blog', 'wiki'])
  await everywhere('live', async (pg) => {
    const s = pg.getByTestId('session')
    await s.waitFor()
    for (const id of ['shop', 'blog', 'wiki']) await s.getByTestId(`session-client-${id}`).waitFor()
  })
  const session = page.getByTestId('session')
  assert.equal(await session.getByTestId('session-state').getAttribute('data-state'), 'live')
  assert.match(await session.getByTestId('session-client-wiki').innerText(), /no back-channel logout URI/)
  assert.equal(await session.getByTestId('session-client-wiki').getByTestId('send-logout').isDisabled(), true)

  // Send logout now, to the shop only: delivered, the session stays.
  await session.getByTestId('session-client-shop').getByTestId('send-logout').click()
  await session.locator('[data-testid="session-client-shop"] [data-testid="logout-delivery"][data-outcome="delivered"]').waitFor()
  assert.deepEqual(received.map((r) => r.path), ['/bc/ok'])
  assert.match(await session.getByTestId('session-client-shop').innerText(), /204/)
  assert.equal(await session.getByTestId('session-state').getAttribute('data-state'), 'live')

  // End the session from the GUI: both receivers get a logout token, the outcomes arrive live
  // on every open page (delivered for the shop, failed with 500 for the blog).
  await session.getByTestId('end-session').click()
  await page.getByRole('dialog').getByRole('button', { name: 'End session' }).click()
  await everywhere('ended', async (pg) => {
    await pg.getByRole('tab', { name: /^All/ }).click()
    const s = pg.getByTestId('session')
    await s.locator('[data-testid="session-state"][data-state="ended"]').waitFor()
    await s.locator('[data-testid="session-client-blog"] [data-testid="logout-delivery"][data-outcome="failed"]').waitFor()
    await s.locator('[data-testid="session-client-shop"] [data-testid="logout-delivery"][data-outcome="delivered"]').first().waitFor()
  })
  assert.match(await session.getByTestId('session-client-blog').getByTestId('logout-error').innerText(), /answered 500/)
  const paths = received.map((r) => r.path).sort()
  assert.deepEqual(paths, ['/bc/broken', '/bc/ok', '/bc/ok'])
  for (const r of received) {
    assert.equal(r.type, 'application/x-www-form-urlencoded')
    const header = JSON.parse(Buffer.from(r.token.split('.')[0], 'base64url').toString())
    assert.equal(header.typ, 'logout+jwt')
  }

  // The POSTs are in the request log, marked as sent by Latchkey.
  for (const [key, pg] of Object.entries(pages)) {
    await pg.goto(`${server.base}/admin/requests`)
    await pg.getByText('back-channel logout failed').first().click()
    await pg.getByTestId('request-outbound').waitFor()
    await shot(pg, `sessions-requests-${key}`)
  }
  assert.match(await page.getByTestId('request-outbound').innerText(), /blog.*failed: answered 500/)

  // The client form and the settings show the back-channel logout fields.
  for (const [key, pg] of Object.entries(pages)) {
    await pg.goto(`${server.base}/admin/clients/shop`)
    assert.equal(await pg.locator('#backchannel_logout_uri').inputValue(), `${rpBase}/bc/ok`)
    await shot(pg, `sessions-client-form-${key}`)
    await pg.goto(`${server.base}/admin/settings`)
    assert.equal(await pg.locator('#backchannel_logout_timeout').inputValue(), '5')
    await shot(pg, `sessions-settings-${key}`)
  }

  // The browser is signed out: the next authorization shows the login page again.
  const pg = await user.newPage()
  const q = new URLSearchParams({ client_id: 'shop', response_type: 'code', redirect_uri: `${rpBase}/cb`, scope: 'openid' })
  await pg.goto(`${server.base}/authorize?${q}`)
  await pg.getByTestId('login-submit').waitFor()
  await user.close()
})
