// Token lineage, key retirement and users' tokens, as a developer meets them: the protocol is
// driven over HTTP like an app would, the admin UI is watched in Chromium while it happens.
// Screenshots of every page touched, at 1366x850 and 1024x700, light and dark, go to
// test-results/screenshots/ (lineage-*).

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { launch, shot, startServer } from './harness.mjs'
import { authorize, introspect, pkce, recordOf, token } from './oauth.mjs'

const CB = 'http://localhost:3000/cb'
const CONFIG = `
[server]
access_token_ttl = 3600

[[scopes]]
name = "read_books"

[[clients]]
client_id = "web"
client_secret = "web-secret-e2e"
name = "Web app"
redirect_uris = ["${CB}"]
grant_types = ["authorization_code", "refresh_token"]
scopes = ["openid", "profile", "read_books"]

[[clients]]
client_id = "svc"
client_secret = "svc-secret-e2e"
grant_types = ["client_credentials"]
scopes = ["read_books"]

[[users]]
username = "alice"
password = "alice-pw"
claims = { name = "Alice Liddell" }

[[users]]
username = "bob"
password = "bob-pw"
claims = { name = "Bob" }
`

const SIZES = [['1366', { width: 1366, height: 850 }], ['1024', { width: 1024, height: 700 }]]
const THEMES = ['light', 'dark']

let server
let browser
/** One page per size and theme; `page` is the 1366 light one the tests drive. */
const pages = {}
let page

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lk-lineage-'))
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

const url = (p) => `${server.base}/admin/${p}`

/** Opens `p` at every size and theme, waits for `ready`, checks nothing overflows sideways, shoots. */
async function everywhere(p, name, ready) {
  for (const [key, pg] of Object.entries(pages)) {
    await pg.goto(url(p))
    await ready(pg)
    await pg.locator('[data-testid="connection"][data-state="live"]').waitFor()
    const overflow = await pg.evaluate(() => {
      const doc = document.documentElement
      const wide = [...document.querySelectorAll('.table-wrap, .toolbar, .page-header, .panel')]
        .filter((el) => el.scrollWidth > el.clientWidth + 1)
        .map((el) => `${el.className} ${el.scrollWidth}>${el.clientWidth}`)
      return { page: doc.scrollWidth - doc.clientWidth, wide }
    })
    assert.ok(overflow.page <= 0, `${name} at ${key}: the page scrolls sideways by ${overflow.page}px`)
    assert.deepEqual(overflow.wide, [], `${name} at ${key}: nothing overflows sideways`)
    await shot(pg, `lineage-${name}-${key}`)
  }
}

async function codeFlow(username = 'alice') {
  const { verifier, challenge } = pkce()
  const code = await authorize(server.base, {
    clientId: 'web', redirectUri: CB, scope: 'openid profile read_books', username, password: `${username}-pw`, challenge,
  })
  const [s, t] = await token(server.base, 'web', 'web-secret-e2e', {
    grant_type: 'authorization_code', code, redirect_uri: CB, code_verifier: verifier,
  })
  assert.equal(s, 200, JSON.stringify(t))
  return { code, tokens: t }
}

const refresh = (rt) => token(server.base, 'web', 'web-secret-e2e', { grant_type: 'refresh_token', refresh_token: rt })

const node = (pg, id) => pg.locator(`[data-testid="lineage"] [data-token-id="${id}"]`)

test('the lineage of a code exchange grows live through two refreshes and shows the replay and what it revoked', async () => {
  const { code, tokens: first } = await codeFlow()
  const at1 = await recordOf(server.base, first.access_token)
  const codeRec = await recordOf(server.base, code)
  assert.equal(at1.grant_id, codeRec.id)

  await page.goto(url(`tokens/${at1.id}`))
  const lineage = page.getByTestId('lineage')
  await lineage.waitFor()
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor()
  // Code → access, id, refresh.
  await assert.doesNotReject(node(page, codeRec.id).waitFor())
  assert.equal(await lineage.getByRole('treeitem').count(), 4)
  assert.equal(await node(page, at1.id).getAttribute('aria-current'), 'true')

  // Two refreshes while the page is open: the tree grows without a reload.
  const [s2, second] = await refresh(first.refresh_token)
  assert.equal(s2, 200)
  const [s3, third] = await refresh(second.refresh_token)
  assert.equal(s3, 200)
  const rt1 = await recordOf(server.base, first.refresh_token)
  const rt2 = await recordOf(server.base, second.refresh_token)
  const at3 = await recordOf(server.base, third.access_token)
  await node(page, at3.id).waitFor()
  assert.equal(await lineage.getByRole('treeitem').count(), 10)
  // The refresh chain nests: code > rt1 > rt2 > at3.
  assert.equal(await node(page, codeRec.id).getAttribute('aria-level'), '1')
  assert.equal(await node(page, rt1.id).getAttribute('aria-level'), '2')
  assert.equal(await node(page, rt2.id).getAttribute('aria-level'), '3')
  assert.equal(await node(page, at3.id).getAttribute('aria-level'), '4')
  await node(page, rt1.id).locator('[data-state="consumed"]').waitFor()
  assert.match(await page.getByRole('heading', { level: 2, name: 'Lineage' }).locator('..').innerText(), /2 refreshes/)

  // Replaying the first refresh token revokes the family; the page says so, live.
  const [s4, err] = await refresh(first.refresh_token)
  assert.equal(s4, 400)
  assert.equal(err.error, 'invalid_grant')
  const note = page.getByTestId('lineage-replay')
  await note.waitFor()
  const text = await note.innerText()
  assert.match(text, /Rotated refresh token reused/)
  // Every still-active token of the grant: at1, id1, at2, id2, at3, id3, rt3.
  assert.match(text, /revoked 7 tokens/, text)
  assert.match(text, /rotated refresh token reused/)
  await node(page, at3.id).locator('[data-state="revoked"]').waitFor()
  await node(page, rt1.id).getByText('replayed').waitFor()
  assert.equal((await introspect(server.base, 'web', 'web-secret-e2e', third.access_token)).active, false)

  await everywhere(`tokens/${at3.id}`, 'token', (pg) => pg.getByTestId('lineage-replay').waitFor())

  // "Show this grant" lists exactly the grant's tokens.
  await page.goto(url(`tokens/${at3.id}`))
  await page.getByTestId('show-grant').click()
  await page.waitForURL(/grant_id=/)
  await page.getByTestId('grant-filter').waitFor()
  await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').nth(9).waitFor()
  assert.equal(await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').count(), 10)
  await everywhere(`tokens?grant_id=${encodeURIComponent(codeRec.id)}`, 'tokens-grant', (pg) => pg.getByTestId('grant-filter').waitFor())
})

test('rotating with a retention of 0 asks first, then the token shows as key retired everywhere and introspection agrees', async () => {
  const [s, cc] = await token(server.base, 'svc', 'svc-secret-e2e', { grant_type: 'client_credentials', scope: 'read_books' })
  assert.equal(s, 200)
  const rec = await recordOf(server.base, cc.access_token)
  assert.equal((await introspect(server.base, 'svc', 'svc-secret-e2e', cc.access_token)).active, true)

  // The token page is open in another tab while the key is rotated away.
  const tokenTab = pages['1366-dark']
  await tokenTab.goto(url(`tokens/${rec.id}`))
  await tokenTab.locator('[data-testid="connection"][data-state="live"]').waitFor()
  await tokenTab.locator('h1 [data-testid="status-badge"][data-state="active"]').waitFor()

  await page.goto(url('keys'))
  await page.locator('[data-testid="keys-table"] tr[data-status="active"]').waitFor()
  const oldKid = await page.locator('[data-testid="keys-table"] tr[data-status="active"]').getAttribute('data-kid')
  assert.equal(oldKid, rec.kid)
  await page.getByLabel('Keep the old key published for').fill('0')
  await page.getByRole('button', { name: 'Rotate now' }).click()
  const impact = page.getByTestId('rotation-impact')
  await impact.waitFor()
  const dialog = page.getByRole('dialog')
  assert.match(await dialog.getByRole('heading').innerText(), /token(s)? will stop verifying/)
  assert.match(await impact.innerText(), /stop verifying immediately/)
  assert.match(await impact.innerText(), /Keeping the old key for 1h keeps every one of them valid/)
  await shot(page, 'lineage-keys-confirm-1366-light')
  // Cancel changes nothing.
  await dialog.getByRole('button', { name: 'Cancel' }).click()
  assert.equal((await introspect(server.base, 'svc', 'svc-secret-e2e', cc.access_token)).active, true)
  await page.getByRole('button', { name: 'Rotate now' }).click()
  await page.getByRole('dialog').getByRole('button', { name: 'Rotate anyway' }).click()
  await page.locator(`[data-testid="keys-table"] tr[data-kid="${oldKid}"][data-status="unpublished"]`).waitFor()
  const oldRow = await page.locator(`[data-testid="keys-table"] tr[data-kid="${oldKid}"]`).innerText()
  assert.match(oldRow, /left JWKS/i)
  assert.match(oldRow, /unverifiable/)

  // Introspection says inactive, and so does every view of the token, live.
  assert.deepEqual(await introspect(server.base, 'svc', 'svc-secret-e2e', cc.access_token), { active: false })
  await tokenTab.locator('h1 [data-testid="status-badge"][data-state="key_retired"]').waitFor()
  await tokenTab.getByTestId('status-reason').getByText(/left the JWKS/).waitFor()
  await page.goto(url('tokens'))
  await page.locator(`tr[data-token-id="${rec.id}"] [data-testid="status-badge"][data-state="key_retired"]`).waitFor()
  assert.match(await page.locator(`tr[data-token-id="${rec.id}"] [data-testid="status-badge"]`).innerText(), /^key retired$/i)
  // The status filter agrees with the server.
  await page.getByLabel('Status').selectOption('key_retired')
  await page.getByTestId('token-count').filter({ hasText: /^1 token$/ }).waitFor()
  await page.locator(`tr[data-token-id="${rec.id}"]`).waitFor()
  assert.equal(await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').count(), 1)
  await page.getByLabel('Status').selectOption('active')
  await page.locator(`tr[data-token-id="${rec.id}"]`).waitFor({ state: 'detached' })

  await everywhere('keys', 'keys', (pg) => pg.locator('[data-testid="keys-table"] tr[data-status="unpublished"]').waitFor())
  await everywhere(`tokens/${rec.id}`, 'token-key-retired', (pg) => pg.locator('h1 [data-testid="status-badge"][data-state="key_retired"]').waitFor())
  await everywhere('tokens', 'tokens', (pg) => pg.locator('[data-testid="tokens-table"] [data-state="key_retired"]').first().waitFor())
})

test('a user\'s tokens: the user filter, "See their tokens" and user names as links', async () => {
  await codeFlow('bob')
  await page.goto(url('users'))
  await page.getByRole('link', { name: 'Tokens of bob' }).waitFor()
  await everywhere('users', 'users', (pg) => pg.getByRole('link', { name: 'Tokens of bob' }).waitFor())
  await everywhere('users/alice', 'user', (pg) => pg.getByTestId('user-tokens').waitFor())

  await page.goto(url('users/alice'))
  await page.getByTestId('user-tokens').click()
  await page.waitForURL(/\/tokens\?username=alice$/)
  await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').first().waitFor()
  assert.equal(await page.getByLabel('User').inputValue(), 'alice')
  const users = await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id] td:nth-child(4)').allInnerTexts()
  assert.ok(users.length >= 10)
  assert.deepEqual([...new Set(users)], ['alice'])

  // Switching the filter to bob keeps it in the URL; a new token of bob's appears live.
  await page.getByLabel('User').selectOption('bob')
  await page.waitForURL(/username=bob/)
  await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').first().waitFor()
  const before = await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').count()
  await codeFlow('bob')
  await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').nth(before + 3).waitFor()
  assert.deepEqual([...new Set(await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id] td:nth-child(4)').allInnerTexts())], ['bob'])
  await codeFlow('alice')
  await page.waitForTimeout(300)
  assert.deepEqual([...new Set(await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id] td:nth-child(4)').allInnerTexts())], ['bob'], 'alice\'s new tokens stay out')

  // The user name in a row is a link to the user; on the token page too.
  await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').first().getByRole('link', { name: 'bob' }).click()
  await page.waitForURL(/\/users\/bob$/)
  await everywhere('tokens?username=bob', 'tokens-user', (pg) => pg.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').first().waitFor())
})
