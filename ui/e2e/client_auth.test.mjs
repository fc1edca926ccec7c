// JWT client authentication in the GUI (issue 14): a private_key_jwt client created with a key
// pair generated in the browser, its private key used by an app (Node's jose) to get a token,
// the assertion in the request log, and a trusted issuer added in Settings. Screenshots at
// 1366x850 and 1024x700, light and dark, go to test-results/screenshots/.

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import * as jose from 'jose'
import { launch, shot, startServer } from './harness.mjs'

let server
let browser
const pages = {}
const CLIENT = 'reports-job'
let privatePem

before(async () => {
  server = await startServer()
  const r = await fetch(`${server.base}/admin/api/scopes`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'read_reports', description: 'Read reports' }),
  })
  assert.equal(r.status, 201, await r.text())
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
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) page.errors.push(m.text())
    })
    pages[name] = page
  }
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

const url = (p) => `${server.base}/admin/${p}`

async function shots(name, open) {
  for (const [variant, page] of Object.entries(pages)) {
    await open(page)
    await shot(page, `jwt-${name}-${variant}`)
  }
}

test('a private_key_jwt client gets a browser-generated key pair and its app gets a token with it', async () => {
  const page = pages.light
  await page.goto(url('clients/new'))
  await page.getByLabel('Client ID').fill(CLIENT)
  await page.getByLabel('Name').fill('Reports job')
  await page.getByLabel('Token endpoint auth method').selectOption('private_key_jwt')
  // No secret for private_key_jwt: the key panel instead.
  assert.equal(await page.getByLabel('Client secret').count(), 0)
  await page.getByRole('button', { name: 'Generate a key pair' }).click()
  const once = page.getByRole('region', { name: 'Private key' })
  await once.waitFor()
  privatePem = (await once.locator('pre').innerText()).trim()
  assert.match(privatePem, /^-----BEGIN PRIVATE KEY-----/)
  const pasted = JSON.parse(await page.getByLabel('Public keys (JWK Set)').inputValue())
  assert.equal(pasted.keys.length, 1)
  assert.equal(pasted.keys[0].d, undefined, 'only the public key goes to Latchkey')
  assert.equal(await page.getByLabel('Signing algorithm').inputValue(), 'ES256')
  await page.locator('[data-scope="read_reports"]').click()
  await shot(page, 'jwt-client-new-key-generated')
  await page.getByRole('button', { name: 'Create client' }).click()
  await page.waitForURL(`**/admin/clients/${CLIENT}`)
  await page.getByRole('heading', { name: 'Example assertion' }).waitFor()

  const client = await (await fetch(`${server.base}/admin/api/clients/${CLIENT}`)).json()
  assert.equal(client.token_endpoint_auth_method, 'private_key_jwt')
  assert.equal(client.client_secret, undefined)
  const kid = client.jwks.keys[0].kid

  // The developer's app: jose with the private key copied from the page.
  const key = await jose.importPKCS8(privatePem, 'ES256')
  const assertion = await new jose.SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(CLIENT).setSubject(CLIENT).setAudience(`${server.base}/token`)
    .setIssuedAt().setExpirationTime('60s').setJti(crypto.randomUUID())
    .sign(key)
  const r = await fetch(`${server.base}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  })
  const body = await r.json()
  assert.equal(r.status, 200, JSON.stringify(body))
  assert.equal(body.scope, 'read_reports')

  // The example on the page names this client, its kid and the token endpoint.
  const example = await page.locator('#assertion-example').innerText()
  assert.match(example, new RegExp(`"iss": "${CLIENT}", "sub": "${CLIENT}"`))
  assert.match(example, new RegExp(kid))
  assert.match(example, /client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer/)
  await shots('client-page', async (p) => {
    await p.goto(url(`clients/${CLIENT}`))
    await p.getByRole('heading', { name: 'Example assertion' }).waitFor()
  })
  for (const p of Object.values(pages)) assert.deepEqual(p.errors, [])
})

test('the request log shows the assertion, the time it was checked against and the skew', async () => {
  await shots('requests', async (p) => {
    await p.goto(url('requests'))
    await p.getByTestId('requests-table').waitFor()
    await p.locator('[data-testid="requests-table"] tbody tr', { hasText: '/token' }).first().click()
    const a = p.getByTestId('request-assertion')
    await a.waitFor()
    assert.match(await a.innerText(), /Client assertion:\s*accepted/i)
    assert.match(await a.innerText(), /real time/)
    await a.scrollIntoViewIfNeeded()
  })
})

test('a trusted issuer is added in Settings and listed', async () => {
  const page = pages.light
  await page.goto(url('settings'))
  const panel = page.getByRole('region', { name: 'Trusted issuers' })
  await panel.getByText('No trusted issuers').waitFor()
  await panel.getByRole('button', { name: 'Add an issuer' }).click()
  await page.getByLabel('Issuer', { exact: true }).fill('https://ci.example/oidc')
  // A private key pasted by mistake is refused before anything is sent.
  await page.getByLabel('Public keys (JWK Set)').fill(JSON.stringify({ kty: 'EC', crv: 'P-256', x: 'a', y: 'b', d: 'c' }))
  await page.getByRole('button', { name: 'Add issuer' }).click()
  await page.getByText('holds private key material').waitFor()
  const client = await (await fetch(`${server.base}/admin/api/clients/${CLIENT}`)).json()
  await page.getByLabel('Public keys (JWK Set)').fill(JSON.stringify(client.jwks))
  await page.getByRole('button', { name: 'Add a subject' }).click()
  await page.getByLabel('subject 1', { exact: true }).fill('deploy-bot')
  await page.getByRole('button', { name: 'Add issuer' }).click()
  await panel.getByRole('table', { name: 'Trusted issuers' }).getByText('https://ci.example/oidc').waitFor()
  const list = await (await fetch(`${server.base}/admin/api/trusted-issuers`)).json()
  assert.deepEqual(list.map((t) => [t.issuer, t.allowed_subjects]), [['https://ci.example/oidc', ['deploy-bot']]])
  assert.equal(await page.getByLabel('Assertion time').inputValue(), 'real')
  await shots('settings-trusted-issuers', async (p) => {
    await p.goto(url('settings#trusted-issuers'))
    await p.getByRole('region', { name: 'Trusted issuers' }).getByText('https://ci.example/oidc').waitFor()
  })
  for (const p of Object.values(pages)) assert.deepEqual(p.errors, [])
})
