// `latchkey serve --config FILE --watch` as a user lives with it: a broken edit shows a banner
// on every page with the file, line and key (and on a page opened afterwards, from status),
// nothing changes meanwhile, and fixing the file removes the banner and shows the change
// live. Screenshots at 1366 and 1024 px, light and dark (test-results/screenshots/config-*).

import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync, renameSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { launch, shot, startServer } from './harness.mjs'

const GOOD = `
[[clients]]
client_id = "books-app"
client_secret = "books-secret-value"
grant_types = ["client_credentials"]
scopes = []
`
const BROKEN = GOOD + `
[[clients]]
client_id = "orders-app"
client_secret = "orders-secret-value"
grant_typse = ["client_credentials"]
`
const FIXED = BROKEN.replace('grant_typse', 'grant_types')

let server
let browser
let file
const errors = []

function save(text) {
  // As editors do: a new file renamed over the old one.
  writeFileSync(file + '.tmp', text)
  renameSync(file + '.tmp', file)
}

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'latchkey-config-'))
  file = path.join(dir, 'latchkey.toml')
  writeFileSync(file, GOOD)
  server = await startServer(['--config', file, '--watch'])
  browser = await launch()
})

after(async () => {
  await browser?.close()
  await server?.stop()
  assert.deepEqual(errors, [])
})

test('a refused config file shows its errors on every page until it is fixed', async () => {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 850 }, colorScheme: 'light' })
  const page = await ctx.newPage()
  page.on('pageerror', (e) => errors.push(e.message))
  await page.goto(`${server.base}/admin/clients`)
  await page.getByRole('link', { name: 'books-app' }).first().waitFor()
  await page.getByTestId('connection').and(page.locator('[data-state="live"]')).waitFor()
  assert.equal(await page.getByTestId('config-banner').count(), 0)

  save(BROKEN)
  const banner = page.getByTestId('config-banner')
  await banner.waitFor()
  const text = await banner.innerText()
  const line = BROKEN.split('\n').findIndex((l) => l.startsWith('grant_typse')) + 1
  assert.match(text, /latchkey\.toml was not applied: nothing it describes changed/)
  assert.ok(text.includes(`latchkey.toml:${line}`), text)
  assert.match(text, /grant_typse/)
  assert.equal(await page.getByRole('link', { name: 'orders-app' }).count(), 0, 'nothing from the broken file')
  await shot(page, 'config-refused-1366-light')

  // A page opened now reads the refusal from the status, not from an event it never saw.
  for (const [w, h, scheme] of [[1366, 850, 'dark'], [1024, 700, 'light'], [1024, 700, 'dark']]) {
    const c = await browser.newContext({ viewport: { width: w, height: h }, colorScheme: scheme })
    const p = await c.newPage()
    p.on('pageerror', (e) => errors.push(e.message))
    await p.goto(`${server.base}/admin/`)
    await p.getByTestId('config-banner').waitFor()
    await shot(p, `config-refused-${w}-${scheme}`)
    await c.close()
  }

  save(FIXED)
  await banner.waitFor({ state: 'detached' })
  await page.getByRole('link', { name: 'orders-app' }).first().waitFor()
  await ctx.close()
})
