// DPoP (RFC 9449) in the GUI: a client gets a DPoP-bound token with proofs made by panva's
// `jose` (independent of the server), calls a resource with it, sends a proof the server
// refuses; the Requests page shows each proof decoded with every check, the Tokens page and the
// token view show the bound key, Settings and the client form show the DPoP switches.
// Screenshots at 1366x850 and 1024x700, light and dark, go to test-results/screenshots/.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import * as jose from 'jose'
import { launch, shot, startServer } from './harness.mjs'

let server
let browser
const pages = {}
let key
let jwk
let jkt
let token

const post = (path, body) =>
  fetch(`${server.base}/admin/api/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  })

async function proof(htm, htu, extra = {}) {
  return new jose.SignJWT({ htm, htu, jti: crypto.randomUUID(), ...extra })
    .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
    .setIssuedAt(extra.iat ?? Math.floor(Date.now() / 1000))
    .sign(key.privateKey)
}

before(async () => {
  server = await startServer()
  for (const [path, body] of [
    ['scopes', { name: 'read_books', description: 'Read books' }],
    ['clients', { client_id: 'books-job', client_secret: 'books-secret', grant_types: ['client_credentials'], scopes: ['read_books'], audiences: ['books-api'] }],
    ['resources', { name: 'books', audience: 'books-api', required_scopes: ['read_books'] }],
  ]) {
    const r = await post(path, body)
    assert.ok(r.status === 201 || r.status === 200, `${path}: ${r.status} ${await r.text()}`)
  }
  key = await jose.generateKeyPair('ES256')
  jwk = await jose.exportJWK(key.publicKey)
  jkt = await jose.calculateJwkThumbprint(jwk, 'sha256')
  browser = await launch()
  for (const [name, viewport, colorScheme] of [
    ['light', { width: 1366, height: 850 }, 'light'],
    ['small', { width: 1024, height: 700 }, 'light'],
    ['dark', { width: 1366, height: 850 }, 'dark'],
    ['darkSmall', { width: 1024, height: 700 }, 'dark'],
  ]) {
    const ctx = await browser.newContext({ viewport, colorScheme })
    const page = await ctx.newPage()
    page.errors = []
    page.on('pageerror', (e) => page.errors.push(e.message))
    pages[name] = page
  }
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

const url = (p) => `${server.base}/admin/${p}`

// Every page this feature touches, at both sizes in both themes.
async function shots(name, open, variants = Object.keys(pages)) {
  for (const variant of variants) {
    const page = pages[variant]
    await open(page)
    await shot(page, `dpop-${name}-${variant}`)
    assert.deepEqual(page.errors, [], `${name} ${variant}`)
  }
}

const tokenRequest = (dpop) =>
  fetch(`${server.base}/token`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Basic ${btoa('books-job:books-secret')}`,
      DPoP: dpop,
    },
    body: 'grant_type=client_credentials',
  })

test('an app gets a DPoP-bound token with jose-made proofs and calls a resource with it', async () => {
  const r = await tokenRequest(await proof('POST', `${server.base}/token`))
  const body = await r.json()
  assert.equal(r.status, 200, JSON.stringify(body))
  assert.equal(body.token_type, 'DPoP')
  assert.equal(jose.decodeJwt(body.access_token).cnf.jkt, jkt)
  token = body.access_token
  const resource = `${server.base}/resources/books/shelf`
  const ath = jose.base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))))
  const ok = await fetch(resource, { headers: { Authorization: `DPoP ${token}`, DPoP: await proof('GET', resource, { ath }) } })
  assert.equal(ok.status, 200, await ok.text())
  const bearer = await fetch(resource, { headers: { Authorization: `Bearer ${token}` } })
  assert.equal(bearer.status, 401)
  assert.match(bearer.headers.get('www-authenticate'), /^DPoP realm="books", error="invalid_token"/)
  // A proof for the URL a proxy would show: refused, and explained in the log.
  const refused = await tokenRequest(await proof('POST', 'https://auth.example.com/token'))
  assert.equal(refused.status, 400)
  assert.equal((await refused.json()).error, 'invalid_dpop_proof')
})

test('the Requests page shows the proof decoded with every check', async () => {
  await shots('requests', async (p) => {
    await p.goto(url('requests'))
    await p.getByTestId('requests-table').waitFor()
    await p.locator('[data-testid="requests-table"] tbody tr', { hasText: '/token' }).first().click()
    const d = p.getByTestId('request-dpop')
    await d.waitFor()
    const text = await d.innerText()
    assert.match(text, /invalid_dpop_proof/i)
    assert.match(text, /--issuer/)
    assert.ok(text.includes(jkt), text)
  })
})

test('the Tokens page and the token view show the bound key', async () => {
  await shots('tokens', async (p) => {
    await p.goto(url('tokens'))
    await p.getByTestId('dpop-bound').first().waitFor()
  })
  await shots('token', async (p) => {
    await p.goto(url('tokens'))
    await p.getByTestId('dpop-bound').first().click()
    const t = p.getByTestId('token-dpop')
    await t.waitFor()
    assert.ok((await t.innerText()).includes(jkt))
  })
})

test('Settings and the client form have the DPoP switches', async () => {
  await shots('settings', async (p) => {
    await p.goto(url('settings'))
    await p.getByText('Require server nonces in DPoP proofs').waitFor()
  })
  await shots('client', async (p) => {
    await p.goto(url('clients/books-job'))
    await p.getByText('Require DPoP').waitFor()
  })
})
