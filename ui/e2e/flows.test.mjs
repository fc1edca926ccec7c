// Issue 11 as a new user meets it, in Debian's Chromium against a real `latchkey serve`:
// running a login from a client's page, inspecting any token, curl that runs when pasted,
// form errors, the virtual clock banner, and every page at 1024 and 1366 px in both themes
// (screenshots in test-results/screenshots/flows-*).

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHmac, generateKeyPairSync, sign as rsaSign } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { launch, shot, startServer } from './harness.mjs'

const CLIENT = 'web-app'
const SECRET = 'web-secret-value'

const CONFIG = `
[[scopes]]
name = "read_books"
description = "Read the book catalogue"

[[clients]]
client_id = "${CLIENT}"
client_secret = "${SECRET}"
name = "Web app"
redirect_uris = ["http://localhost:3000/callback"]
grant_types = ["authorization_code", "refresh_token", "client_credentials", "password"]
scopes = ["openid", "profile", "email", "read_books"]

[[users]]
username = "alice"
password = "alice-password"
claims = { name = "Alice Liddell", email = "alice@example.com", email_verified = true }

[[resources]]
name = "books"
audience = "books-api"
required_scopes = ["read_books"]
`

let server
let browser
let ctx
let page
const errors = []

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'latchkey-flows-'))
  const file = path.join(dir, 'latchkey.toml')
  writeFileSync(file, CONFIG)
  server = await startServer(['--config', file])
  browser = await launch()
  ctx = await browser.newContext({ viewport: { width: 1366, height: 850 }, colorScheme: 'light' })
  await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.base })
  page = await ctx.newPage()
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text())
  })
})

after(async () => {
  await browser?.close()
  await server?.stop()
})

const url = (p) => `${server.base}/admin/${p}`
const b64u = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')
const api = async (method, p, body) => {
  const r = await fetch(`${server.base}/admin/api${p}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  })
  return { status: r.status, body: r.headers.get('content-type')?.includes('json') ? await r.json() : await r.text() }
}
const bash = (script) =>
  new Promise((resolve) => {
    execFile('bash', ['-c', script], { timeout: 20_000 }, (err, stdout, stderr) => resolve({ code: err ? err.code ?? 1 : 0, stdout, stderr }))
  })
const clipboard = () => page.evaluate(() => navigator.clipboard.readText())

async function clientCredentials(scope = 'read_books') {
  const r = await fetch(`${server.base}/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${CLIENT}:${SECRET}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  })
  assert.equal(r.status, 200)
  return r.json()
}

test('Try the login: from the button to tokens, through a popup and the callback route', async () => {
  await page.goto(url(`clients/${CLIENT}`))
  await page.getByRole('heading', { name: 'Web app' }).waitFor()
  // The callback is registered with one explicit click, never silently.
  const before = (await api('GET', `/clients/${CLIENT}`)).body
  assert.ok(!before.redirect_uris.some((u) => u.endsWith('/admin/callback')))
  await page.getByRole('button', { name: 'Register the callback on this client' }).click()
  const tryButton = page.getByTestId('try-login')
  await tryButton.waitFor()
  const after = (await api('GET', `/clients/${CLIENT}`)).body
  assert.ok(after.redirect_uris.includes(`${server.base}/admin/callback`), JSON.stringify(after.redirect_uris))
  assert.ok(after.redirect_uris.includes('http://localhost:3000/callback'), 'the existing redirect URI stays')

  await page.getByLabel('login_hint').fill('alice')
  const [popup] = await Promise.all([page.waitForEvent('popup'), tryButton.click()])
  await popup.locator('input[name="password"]').waitFor({ timeout: 10_000 })
  await popup.locator('input[name="password"]').fill('alice-password')
  const username = popup.locator('input[name="username"]')
  if (!(await username.inputValue())) await username.fill('alice')
  await shot(popup, 'flows-login-popup')
  await Promise.all([popup.waitForEvent('close', { timeout: 10_000 }), popup.getByRole('button', { name: 'Sign in' }).click()])

  const result = page.locator('[data-testid="try-result"][data-ok="true"]')
  await result.waitFor({ timeout: 10_000 })
  const checks = page.getByTestId('login-checks')
  await checks.getByText('state matches').waitFor()
  await checks.getByText('id_token nonce matches').waitFor()
  await checks.getByText(/iss is .*this issuer/).waitFor()
  assert.equal(await checks.locator('li.bad').count(), 0, await checks.innerText())
  // The exact requests, as curl with -s; the code exchange uses PKCE.
  const steps = page.getByTestId('steps')
  const stepsText = await steps.innerText()
  assert.match(stepsText, /code_challenge_method=S256/)
  assert.match(stepsText, /curl -s/)
  assert.match(stepsText, /code_verifier=/)
  await page.getByTestId('token-links').locator('a[data-token-kind="id_token"]').waitFor()
  await shot(page, 'flows-try-login-1366-light')

  // A refresh from the same panel.
  await page.getByTestId('try-refresh').click()
  await steps.getByText('Refresh the tokens').waitFor()

  // The id_token view does not call a valid id_token inactive.
  await page.getByTestId('token-links').locator('a[data-token-kind="id_token"]').click()
  await page.waitForURL(/\/admin\/tokens\//)
  const badge = page.getByTestId('introspection-active')
  await badge.getByText('not applicable').waitFor()
  assert.ok(!(await badge.getAttribute('class')).includes('revoked'))
  await page.getByTestId('introspection-note').getByText('about access and refresh tokens').waitFor()
  assert.ok(!(await page.locator('main').innerText()).match(/\ba id\b/i), 'no "a id token"')
  await shot(page, 'flows-id-token-1366-light')
})

test('the callback route keeps no code in the address bar and goes nowhere by itself', async () => {
  const p = await ctx.newPage()
  await p.goto(url('callback?code=SECRET-CODE&state=nobody&iss=http%3A%2F%2Fevil.example'))
  await p.locator('[data-testid="callback"][data-phase="orphan"]').waitFor({ timeout: 6000 })
  assert.equal(new URL(p.url()).search, '')
  assert.ok(p.url().startsWith(`${server.base}/admin/callback`))
  assert.ok(!(await p.content()).includes('SECRET-CODE'))
  await shot(p, 'flows-callback-orphan')
  await p.close()
})

test('Get a token (client credentials) and the password grant run from the client page', async () => {
  await page.goto(url(`clients/${CLIENT}`))
  await page.getByRole('tab', { name: 'Client credentials' }).click()
  await page.getByTestId('try-direct').click()
  await page.locator('[data-testid="try-result"][data-ok="true"]').waitFor()
  // The command shown (with the secret line) runs as pasted.
  const code = await page.getByTestId('steps').locator('pre').first().innerText()
  assert.match(code, /^CLIENT_SECRET=/)
  const run = await bash(code)
  assert.equal(run.code, 0, run.stderr)
  assert.equal(JSON.parse(run.stdout).token_type, 'Bearer')

  await page.getByRole('tab', { name: 'Password' }).click()
  await page.getByLabel('Username').fill('alice')
  await page.getByLabel('Password', { exact: true }).fill('alice-password')
  await page.getByTestId('try-direct').click()
  await page.locator('[data-testid="try-result"][data-ok="true"]').waitFor()
  await page.getByTestId('steps').getByText('${PASSWORD:?set PASSWORD first}').waitFor()
  await page.locator('#quick-start').getByText(`OIDC_CLIENT_ID=${CLIENT}`).waitFor()
})

test('curl copied from the request log runs and succeeds; the Response block is the real body', async () => {
  await clientCredentials('read_books')
  await page.goto(url('requests'))
  const row = page.locator('[data-testid="requests-table"] tbody tr', { hasText: 'POST /token' }).first()
  await row.waitFor()
  // The UI's own requests (it fetches the discovery document) are not in the app's log.
  assert.equal(await page.locator('[data-testid="requests-table"] tbody tr', { hasText: 'openid-configuration' }).count(), 0)
  await row.click()
  const body = page.getByTestId('response-body')
  await body.getByText('"token_type"').waitFor()
  await body.getByText('"[redacted]"').waitFor()
  assert.ok(!(await body.innerText()).includes('eyJ'), 'no token in the log')
  const curlBlock = page.getByTestId('curl-block')
  await curlBlock.getByRole('button', { name: 'Copy with the client’s secret' }).click()
  const copied = await clipboard()
  assert.match(copied, /^CLIENT_SECRET='web-secret-value'\ncurl -s /)
  const ok = await bash(copied)
  assert.equal(ok.code, 0, ok.stderr)
  assert.ok(JSON.parse(ok.stdout).access_token)
  // The plain copy never sends an empty secret: the shell stops first.
  await curlBlock.getByRole('button', { name: 'Copy', exact: true }).click()
  const plain = await clipboard()
  const refused = await bash(`CLIENT_SECRET=\n${plain}`)
  assert.notEqual(refused.code, 0)
  assert.match(refused.stderr, /set CLIENT_SECRET first/)
  await shot(page, 'flows-requests-1366-light')
})

function hs256(payload, secret) {
  const input = `${b64u({ alg: 'HS256', typ: 'JWT' })}.${b64u(payload)}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

test('inspect: Bearer prefix, alg none, HS256 with a secret, a JWKS URL, expiry and another issuer', async () => {
  const inspect = async (text) => {
    await page.goto(url('tokens/inspect'))
    await page.getByRole('textbox', { name: 'Token' }).fill(text)
    await page.getByRole('button', { name: 'Inspect', exact: true }).click()
  }
  const t = await clientCredentials()
  await inspect(`Bearer ${t.access_token}`)
  await page.getByTestId('signature').getByText('Verified', { exact: true }).waitFor()
  await page.getByTestId('finding-valid').waitFor()

  const none = `${b64u({ alg: 'none', typ: 'JWT' })}.${b64u({ sub: 'x', iss: server.base })}.`
  await inspect(none)
  await page.getByTestId('finding-unsigned').waitFor()
  await page.getByTestId('signature').getByText('Unsigned (alg: none)').waitFor()
  assert.ok(!(await page.getByTestId('signature').innerText()).includes('no `kid`'))
  await shot(page, 'flows-inspect-none')

  const now = Math.floor(Date.now() / 1000)
  const secret = 'a-shared-secret-of-32-bytes-long!'
  await inspect(hs256({ sub: 'x', iss: 'https://elsewhere.example', exp: now - 600 }, secret))
  await page.getByTestId('finding-hmac').waitFor()
  await page.getByTestId('finding-issuer').getByText('https://elsewhere.example').waitFor()
  await page.getByTestId('finding-expired').waitFor()
  await page.getByLabel('Shared secret (HS256/384/512)').fill('wrong')
  await page.getByRole('button', { name: 'Verify signature' }).click()
  await page.locator('[data-testid="verify-result"][data-ok="false"]').waitFor()
  await page.getByLabel('Shared secret (HS256/384/512)').fill(secret)
  await page.getByRole('button', { name: 'Verify signature' }).click()
  await page.locator('[data-testid="verify-result"][data-ok="true"]').waitFor()
  await shot(page, 'flows-inspect-hs256')

  // RS256 from "another issuer", its JWKS on a second loopback server.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'other-1', alg: 'RS256', use: 'sig' }
  const jwksServer = createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json')
    res.end(JSON.stringify({ keys: [jwk] }))
  })
  await new Promise((r) => jwksServer.listen(0, '127.0.0.1', r))
  try {
    const input = `${b64u({ alg: 'RS256', typ: 'JWT', kid: 'other-1' })}.${b64u({ sub: 'y', iss: 'https://other.example', exp: now + 3600 })}`
    const token = `${input}.${rsaSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
    await inspect(token)
    await page.getByTestId('finding-issuer').waitFor()
    await page.getByRole('tab', { name: 'JWKS URL' }).click()
    await page.getByLabel('JWKS URL on this machine').fill(`http://127.0.0.1:${jwksServer.address().port}/jwks`)
    await page.getByRole('button', { name: 'Verify signature' }).click()
    const ok = page.locator('[data-testid="verify-result"][data-ok="true"]')
    await ok.waitFor()
    assert.match(await ok.innerText(), /other-1/)
    await shot(page, 'flows-inspect-jwks')
    // Anything but loopback is refused by the server.
    await page.getByLabel('JWKS URL on this machine').fill('http://example.com/jwks')
    await page.getByRole('button', { name: 'Verify signature' }).click()
    await page.getByText('only this machine').waitFor()
  } finally {
    jwksServer.close()
  }
})

test('a duplicate client id: the error is focused, readable and links to the client', async () => {
  await page.goto(url('clients/new'))
  // An untouched required field is not flagged before the first submit.
  await page.getByLabel('Client ID').focus()
  await page.getByLabel('Name').focus()
  assert.equal(await page.getByText('A client ID is required').count(), 0)
  // Public disables the grant a public client cannot have, with the reason.
  await page.getByText('Public', { exact: true }).click()
  const cc = page.getByRole('checkbox', { name: /Client credentials/ })
  assert.equal(await cc.isDisabled(), true)
  await page.getByText('Not for a public client').waitFor()
  await page.getByText('Confidential', { exact: true }).click()

  await page.getByLabel('Client ID').fill(CLIENT)
  await page.getByRole('button', { name: 'Create client' }).click()
  const banner = page.getByTestId('form-error')
  await banner.getByText('already exists').waitFor()
  await page.waitForFunction(() => document.activeElement?.closest('[data-testid="form-error"]') !== null)
  const text = await banner.innerText()
  assert.ok(!/PUT|HTTP 409|conflict/i.test(text), text)
  const box = await banner.boundingBox()
  assert.ok(box && box.y >= 0 && box.y < 850, 'the error is in view')
  await shot(page, 'flows-duplicate-client')
  await banner.getByRole('link', { name: 'Open it' }).click()
  await page.waitForURL(`**/admin/clients/${CLIENT}`)
})

test('a scope in use says why it cannot be deleted and links to its users', async () => {
  await page.goto(url('scopes'))
  const row = page.locator('[data-scope-row="read_books"]')
  await row.getByRole('button', { name: 'Why read_books cannot be deleted' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByTestId('scope-in-use').getByRole('link', { name: CLIENT }).waitFor()
  await dialog.getByTestId('scope-in-use').getByRole('link', { name: 'books' }).waitFor()
  assert.equal(await dialog.getByRole('button', { name: 'Delete scope' }).count(), 0)
  await shot(page, 'flows-scope-in-use')
  await dialog.getByRole('button', { name: 'Close' }).click()
})

test('selected chips stand out by more than colour, with AA contrast', async () => {
  await page.goto(url(`clients/${CLIENT}`))
  const on = page.locator('.chips button.chip[aria-pressed="true"]').first()
  await on.waitFor()
  const style = await on.evaluate((el) => {
    const s = getComputedStyle(el)
    return { color: s.color, bg: s.backgroundColor, weight: s.fontWeight, mark: getComputedStyle(el, '::before').content }
  })
  const lum = (c) => {
    const [r, g, b] = c.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number).map((v) => {
      v /= 255
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4
    })
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
  }
  const [a, b] = [lum(style.color), lum(style.bg)].sort((x, y) => y - x)
  assert.ok((a + 0.05) / (b + 0.05) >= 4.5, JSON.stringify(style))
  assert.ok(Number(style.weight) >= 600, 'bolder than unselected')
  assert.match(style.mark, /✓/)
})

test('import errors name the uploaded file', async () => {
  await page.goto(url('settings'))
  await page.getByLabel('Config file to import').setInputFiles({ name: 'team-latchkey.toml', mimeType: 'application/toml', buffer: Buffer.from('[[clients]\n') })
  const err = page.getByRole('alert').filter({ hasText: 'team-latchkey.toml' }).first()
  await err.waitFor()
  assert.ok(!(await err.innerText()).includes('request body'))
})

test('a shifted clock shows a banner on every page with Reset and +/- controls', async () => {
  await page.goto(url(''))
  assert.equal(await page.getByTestId('clock-banner').count(), 0)
  await api('POST', '/clock', { advance: 7200 })
  const banner = page.getByTestId('clock-banner')
  await banner.getByText(/\+2h 0\dm ahead of real time/).waitFor()
  for (const p of ['clients', 'tokens', 'settings']) {
    await page.goto(url(p))
    await banner.waitFor()
  }
  await shot(page, 'flows-clock-banner')
  await banner.getByRole('button', { name: 'Move the clock −1 h' }).click()
  await banner.getByText(/\+1h 0\dm/).waitFor()
  // The sidebar indicator is a button to the same controls.
  await page.getByTestId('clock-indicator').click()
  await page.waitForFunction(() => document.activeElement?.getAttribute('data-testid') === 'clock-reset')
  await page.keyboard.press('Enter')
  await banner.waitFor({ state: 'detached' })
  assert.equal((await api('GET', '/clock')).body.offset, 0)
})

test('the sidebar collapses to icons and stays so', async () => {
  const c = await browser.newContext({ viewport: { width: 1024, height: 700 } })
  const p = await c.newPage()
  await p.goto(url('requests'))
  const main = p.locator('main')
  const before = (await main.boundingBox()).width
  await p.getByRole('button', { name: 'Collapse the sidebar' }).click()
  await p.getByRole('button', { name: 'Expand the sidebar' }).waitFor()
  const after = (await main.boundingBox()).width
  assert.ok(after > before + 100, `${before} -> ${after}`)
  // Links keep their names (tooltips, screen readers).
  await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tokens' }).waitFor()
  await shot(p, 'flows-sidebar-collapsed-1024')
  await p.reload()
  await p.getByRole('button', { name: 'Expand the sidebar' }).waitFor()
  await p.getByRole('button', { name: 'Expand the sidebar' }).click()
  await c.close()
})

test('every page at 1024x700 and 1366x850, light and dark, without horizontal overflow', async () => {
  const t = await clientCredentials()
  const jti = JSON.parse(Buffer.from(t.access_token.split('.')[1], 'base64url').toString()).jti
  const pages = [
    ['overview', ''], ['clients', 'clients'], ['client-new', 'clients/new'], ['client', `clients/${CLIENT}`],
    ['scopes', 'scopes'], ['users', 'users'], ['user-new', 'users/new'], ['user', 'users/alice'],
    ['resources', 'resources'], ['resource-new', 'resources/new'], ['resource', 'resources/books'], ['resource-edit', 'resources/books/edit'],
    ['tokens', 'tokens'], ['token', `tokens/${jti}`], ['inspect', 'tokens/inspect'], ['requests', 'requests'],
    ['keys', 'keys'], ['settings', 'settings'], ['not-found', 'no-such-page'],
  ]
  // No page scrolls sideways, and at 1024 px no table or panel hides a column behind a
  // horizontal scroll.
  const problems = []
  for (const scheme of ['light', 'dark']) {
    for (const [w, h] of [[1024, 700], [1366, 850]]) {
      const c = await browser.newContext({ viewport: { width: w, height: h }, colorScheme: scheme })
      const p = await c.newPage()
      for (const [name, route] of pages) {
        await p.goto(url(route))
        await p.locator('main .page h1, main .page h3').first().waitFor()
        // Loaded: no skeleton or lazy page still busy.
        await p.waitForFunction(() => !document.querySelector('[aria-busy="true"]'), null, { timeout: 10_000 })
        const m = await p.evaluate(() => {
          const d = document.documentElement
          const wide = [...document.querySelectorAll('.table-wrap, .panel, .page-head')]
            .filter((el) => el.scrollWidth > el.clientWidth + 1)
            .map((el) => `${el.className.split(' ')[0]}:${el.scrollWidth}>${el.clientWidth}`)
          return { sw: d.scrollWidth, cw: d.clientWidth, wide }
        })
        if (m.sw > m.cw) problems.push(`${name} ${w}px ${scheme}: page ${m.sw} > ${m.cw}`)
        if (w === 1024 && m.wide.length) problems.push(`${name} ${w}px ${scheme}: ${m.wide.join(', ')}`)
        await shot(p, `flows-page-${name}-${w}-${scheme}`)
      }
      await c.close()
    }
  }
  assert.deepEqual(problems, [])
  assert.deepEqual(errors, [])
})
