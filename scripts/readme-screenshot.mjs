// Takes the README's screenshot of the Tokens page: starts `latchkey serve` (the debug build, an
// in-memory database) with a small demo config, has a backend and a web app obtain tokens the way
// they would (client credentials, password grant with refresh and id tokens), revokes one, lets a
// short-lived one expire, and photographs /admin/tokens in Chromium.
//   cargo build && npm --prefix ui ci && node scripts/readme-screenshot.mjs
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const { chromium } = createRequire(path.join(repo, 'ui', 'package.json'))('playwright-core')

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port
    s.close(() => resolve(p))
  })
})
const base = `http://localhost:${port}`
const dir = mkdtempSync(path.join(os.tmpdir(), 'latchkey-shot-'))
const config = path.join(dir, 'latchkey.toml')
writeFileSync(
  config,
  `[[scopes]]
name = "read_books"
description = "Read the catalogue"

[[scopes]]
name = "write_books"
description = "Change the catalogue"

[[clients]]
client_id = "books-backend"
name = "Books backend"
client_secret = "backend-secret"
grant_types = ["client_credentials"]
scopes = ["read_books", "write_books"]
audiences = ["books-api"]

[[clients]]
client_id = "books-web"
name = "Books web app"
client_secret = "web-secret"
redirect_uris = ["http://localhost:3000/callback"]
grant_types = ["authorization_code", "refresh_token", "password"]
scopes = ["openid", "profile", "email", "offline_access", "read_books"]

[[users]]
username = "alice"
password = "alice-password"
claims = { name = "Alice Liddell", email = "alice@example.com", email_verified = true }

[[users]]
username = "bob"
password = "bob-password"
claims = { name = "Bob Builder" }
`,
)

const server = spawn(path.join(repo, 'target', 'debug', 'latchkey'), ['serve', '--port', String(port), '--db', ':memory:', '--config', config], {
  stdio: ['ignore', 'inherit', 'inherit'],
})
try {
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/jwks`)).ok) break
    } catch {}
    if (i > 100) throw new Error('latchkey did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
  const token = async (id, secret, params) => {
    const r = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` },
      body: new URLSearchParams(params),
    })
    if (!r.ok) throw new Error(`/token: ${r.status} ${await r.text()}`)
    return r.json()
  }
  const admin = (p, body) =>
    fetch(`${base}/admin/api${p}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })

  const short = await admin('/tokens', { client_id: 'books-backend', scopes: ['read_books'], ttl: 2 })
  if (!short.ok) throw new Error(`mint: ${short.status} ${await short.text()}`)
  const revoked = await token('books-backend', 'backend-secret', { grant_type: 'client_credentials', scope: 'write_books' })
  await fetch(`${base}/revoke`, {
    method: 'POST',
    headers: { Authorization: `Basic ${Buffer.from('books-backend:backend-secret').toString('base64')}` },
    body: new URLSearchParams({ token: revoked.access_token }),
  })
  await token('books-web', 'web-secret', { grant_type: 'password', username: 'bob', password: 'bob-password', scope: 'openid profile read_books' })
  await token('books-backend', 'backend-secret', { grant_type: 'client_credentials' })
  await token('books-web', 'web-secret', { grant_type: 'password', username: 'alice', password: 'alice-password', scope: 'openid profile email offline_access read_books' })
  await token('books-backend', 'backend-secret', { grant_type: 'client_credentials', scope: 'read_books' })
  await new Promise((r) => setTimeout(r, 2500))

  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] })
  const page = await browser.newPage({ viewport: { width: 1360, height: 790 }, colorScheme: 'light' })
  await page.goto(`${base}/admin/tokens`)
  await page.getByRole('heading', { name: 'Tokens' }).waitFor()
  await page.waitForTimeout(1500)
  await page.waitForTimeout(800)
  const out = path.join(repo, 'docs', 'screenshots', 'tokens.png')
  await page.screenshot({ path: out })
  await browser.close()
  console.log(`wrote ${out}`)
} finally {
  server.kill('SIGTERM')
}
