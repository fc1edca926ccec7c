// Dynamic client registration (RFC 7591) and Client ID Metadata Documents in the GUI: a client
// that registers itself appears live on the Clients page, tagged, with where it came from; its
// page shows the metadata; the metadata documents Latchkey fetched are listed with what came
// back; the bulk clean-up asks first; the settings and the export option work. Screenshots at
// 1366x850 and 1024x700, light and dark, go to test-results/screenshots/ (registration-*).

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
let docs
let docBase
const pages = {}
let page

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lk-registration-'))
  const cfg = path.join(dir, 'latchkey.toml')
  writeFileSync(cfg, '[[users]]\nusername = "alice"\npassword = "alice-pw"\nclaims = { name = "Alice Liddell" }\n')
  server = await startServer(['--config', cfg])
  // A metadata-document server on 127.0.0.1:0.
  docs = createServer((req, res) => {
    const id = `${docBase}${req.url}`
    if (req.url === '/client.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' })
      res.end(JSON.stringify({
        client_id: id, client_name: 'Docs MCP client', redirect_uris: ['http://127.0.0.1:4545/callback'],
        token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'],
      }))
    } else if (req.url === '/wrong.json') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ client_id: `${docBase}/other.json`, redirect_uris: ['http://127.0.0.1:4545/callback'] }))
    } else {
      res.writeHead(404).end()
    }
  })
  await new Promise((r) => docs.listen(0, '127.0.0.1', r))
  docBase = `http://127.0.0.1:${docs.address().port}`
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
  docs?.close()
})

async function register(body, headers = {}) {
  const r = await fetch(`${server.base}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  const json = await r.json()
  assert.equal(r.status, 201, JSON.stringify(json))
  return json
}

async function everywhere(name, path, ready) {
  for (const [key, pg] of Object.entries(pages)) {
    if (!pg.url().endsWith(path)) await pg.goto(`${server.base}${path}`)
    await pg.locator('[data-testid="connection"][data-state="live"]').waitFor()
    await ready(pg)
    const overflow = await pg.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    assert.ok(overflow <= 0, `${name} at ${key}: the page scrolls sideways by ${overflow}px`)
    await shot(pg, `registration-${name}-${key}`)
  }
}

test('registered clients appear live, tagged, with their metadata; documents are listed; clean-up asks first', async () => {
  // Every page is open on the Clients page before anything registers.
  for (const pg of Object.values(pages)) {
    await pg.goto(`${server.base}/admin/clients`)
    await pg.locator('[data-testid="connection"][data-state="live"]').waitFor()
  }
  const inspector = await register(
    { client_name: 'MCP Inspector', redirect_uris: ['http://localhost:6274/oauth/callback'], token_endpoint_auth_method: 'none', software_id: 'inspector', logo_uri: 'https://inspector.example/logo.png' },
    { origin: 'http://localhost:6274', 'user-agent': 'Mozilla/5.0 (MCP Inspector)' },
  )
  await register({ client_name: 'CLI agent', redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none' })
  // A metadata-document client asks to authorize, and one with a wrong document.
  for (const doc of ['client.json', 'wrong.json']) {
    const u = new URL(`${server.base}/authorize`)
    u.search = new URLSearchParams({ client_id: `${docBase}/${doc}`, response_type: 'code', redirect_uri: 'http://127.0.0.1:4545/callback', scope: 'openid', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })
    await fetch(u, { redirect: 'manual' })
  }
  await everywhere('clients', '/admin/clients', async (pg) => {
    await pg.getByText('MCP Inspector').first().waitFor()
    await pg.getByText('CLI agent').first().waitFor()
    assert.equal(await pg.getByTestId('dynamic-tag').count(), 2)
    await pg.getByTestId('client-documents').getByText('Docs MCP client').waitFor()
    await pg.getByTestId('client-documents').getByText('differs from its URL').waitFor()
  })
  const row = page.getByTestId('dynamic-client-row').filter({ hasText: 'MCP Inspector' })
  assert.match(await row.innerText(), /http:\/\/localhost:6274/)

  // The document itself, opened.
  const docRow = page.getByTestId('client-document-row').filter({ hasText: 'Docs MCP client' })
  await docRow.getByRole('button', { name: 'Document' }).click()
  await page.getByText('"client_name": "Docs MCP client"').waitFor()
  await shot(page, 'registration-document-open-1366-light')

  // The client's own page: the registration record and metadata.
  await everywhere('client', `/admin/clients/${encodeURIComponent(inspector.client_id)}`, async (pg) => {
    const info = pg.getByTestId('registration-info')
    await info.waitFor()
    await info.getByText('Mozilla/5.0 (MCP Inspector)').waitFor()
  })
  assert.match(await page.getByTestId('registration-info').innerText(), /"software_id": "inspector"/)

  // The consent page of a dynamically registered client says how it came to exist.
  for (const [key, pg] of Object.entries(pages)) {
    const u = new URL(`${server.base}/authorize`)
    u.search = new URLSearchParams({ client_id: inspector.client_id, response_type: 'code', redirect_uri: 'http://localhost:6274/oauth/callback', scope: 'openid profile', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })
    await pg.goto(u.toString())
    await pg.locator('button[name="persona"][value="alice"]').click()
    const notice = pg.getByTestId('consent-dynamic-notice')
    await notice.waitFor()
    assert.match(await notice.innerText(), /registered itself dynamically .* from the web page at http:\/\/localhost:6274/)
    await shot(pg, `registration-consent-${key}`)
  }

  // Settings: the registration panel saves; the export option skips dynamic clients.
  await everywhere('settings', '/admin/settings', (pg) => pg.getByRole('form', { name: 'Client registration' }).waitFor())
  await page.getByRole('form', { name: 'Client registration' }).getByLabel('Allow redirect URIs on other hosts').check()
  await page.getByRole('button', { name: 'Save registration settings' }).click()
  await page.getByText('Registration settings saved').waitFor()
  const s = await (await fetch(`${server.base}/admin/api/settings`)).json()
  assert.equal(s.registration.allow_non_loopback_redirect_uris, true)
  // A bad allowed host is shown at its field.
  await page.getByLabel('Allowed hosts').fill('https://example.com')
  await page.getByRole('button', { name: 'Save registration settings' }).click()
  await page.getByText('is not a host name').waitFor()
  await shot(page, 'registration-settings-error-1366-light')
  await page.getByRole('button', { name: 'Discard' }).last().click()

  // Bulk clean-up: asks first, then removes both, live.
  await page.goto(`${server.base}/admin/clients`)
  await page.getByTestId('delete-dynamic').click()
  await page.getByRole('dialog').getByText('MCP Inspector').waitFor()
  await shot(page, 'registration-confirm-1366-light')
  await page.getByRole('dialog').getByRole('button', { name: 'Delete them' }).click()
  await page.getByText('2 dynamically registered clients deleted').waitFor()
  for (const pg of Object.values(pages)) {
    await pg.goto(`${server.base}/admin/clients`)
    await pg.locator('[data-testid="connection"][data-state="live"]').waitFor()
    await pg.getByTestId('client-documents').waitFor()
    assert.equal(await pg.getByTestId('dynamic-tag').count(), 0)
  }
  const clients = await (await fetch(`${server.base}/admin/api/clients`)).json()
  assert.equal(clients.filter((c) => c.registration).length, 0)
})
