// How the Tokens page copes with a big database: 10,000 tokens recorded, then the page opened
// (time to the first rows, rows in the DOM), scrolled to load a few pages, then 100 tokens
// issued while it is open (time until all 100 are shown, long tasks, frames). Prints JSON and
// writes test-results/perf-tokens.json.
//
//   node e2e/perf/tokens-perf.mjs [--tokens 10000] [--events 100]

import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { launch, repo, startServer } from '../harness.mjs'

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? Number(process.argv[i + 1]) : dflt
}
const TOKENS = arg('tokens', 10000)
const EVENTS = arg('events', 100)
const SECRET = 'perf-secret-0123456789'

const dir = mkdtempSync(path.join(tmpdir(), 'lk-perf-'))
const cfg = path.join(dir, 'latchkey.toml')
writeFileSync(cfg, `
[[scopes]]
name = "read_books"

[[clients]]
client_id = "perf"
client_secret = "${SECRET}"
grant_types = ["client_credentials"]
scopes = ["read_books"]
`)

const server = await startServer(['--config', cfg])
const auth = `Basic ${Buffer.from(`perf:${SECRET}`).toString('base64')}`
async function issue() {
  const r = await fetch(`${server.base}/token`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=read_books',
  })
  assert.equal(r.status, 200)
  await r.arrayBuffer()
}

const figures = { tokens: TOKENS, events: EVENTS }
try {
  let t = performance.now()
  const CONCURRENCY = 8
  let next = 0
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < TOKENS) {
      next++
      await issue()
    }
  }))
  figures.seed_s = +((performance.now() - t) / 1000).toFixed(1)

  const browser = await launch()
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 850 } })
  const page = await ctx.newPage()
  // Long tasks and frames, from the first byte on.
  await page.addInitScript(() => {
    window.__perf = { long: [], frames: 0 }
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__perf.long.push(e.duration) }).observe({ type: 'longtask', buffered: true })
    const tick = () => { window.__perf.frames++; requestAnimationFrame(tick) }
    requestAnimationFrame(tick)
  })
  // Warm the HTTP cache of the UI's assets, so the figure is the page, not the download.
  await page.goto(`${server.base}/admin/`)
  await page.locator('[data-testid="connection"][data-state="live"]').waitFor()

  t = performance.now()
  await page.goto(`${server.base}/admin/tokens`)
  await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').first().waitFor()
  figures.render_first_rows_ms = Math.round(performance.now() - t)
  figures.first_page_rows = Number((await page.getByTestId('token-count').innerText()).replace(/\D/g, ''))
  figures.rows_in_dom = await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').count()

  // Scroll down until 2,000 tokens are loaded (pages of 200 as the end comes near).
  t = performance.now()
  for (let i = 0; i < 200; i++) {
    const n = Number((await page.getByTestId('token-count').innerText()).replace(/\D/g, ''))
    if (n >= Math.min(2000, TOKENS)) break
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight))
    await page.waitForTimeout(50)
  }
  figures.scroll_to_2000_ms = Math.round(performance.now() - t)
  figures.rows_loaded = Number((await page.getByTestId('token-count').innerText()).replace(/\D/g, ''))
  figures.rows_in_dom_after_scroll = await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').count()
  await page.evaluate(() => window.scrollTo(0, 0))
  await page.waitForTimeout(300)

  // 100 live events while the page is open: each issued token is a `token.issued` event.
  const loaded = figures.rows_loaded
  const profiling = process.env.PROFILE === '1'
  const cdp = profiling ? await ctx.newCDPSession(page) : null
  if (cdp) {
    await cdp.send('Profiler.enable')
    await cdp.send('Profiler.start')
  }
  await page.evaluate(() => { window.__perf.long = []; window.__perf.frames = 0; window.__perf.t0 = performance.now() })
  t = performance.now()
  for (let i = 0; i < EVENTS; i++) await issue()
  figures.issue_100_ms = Math.round(performance.now() - t)
  await page.waitForFunction((want) => Number(document.querySelector('[data-testid="token-count"]')?.textContent?.replace(/\D/g, '')) >= want, loaded + EVENTS, { timeout: 30000 })
  figures.apply_100_events_ms = Math.round(performance.now() - t)
  if (cdp) {
    // The functions that took the most time themselves while the events were applied.
    const { profile } = await cdp.send('Profiler.stop')
    const self = new Map()
    const dt = new Map()
    profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)))
    for (const n of profile.nodes) {
      const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').pop()}:${n.callFrame.lineNumber}`
      self.set(k, (self.get(k) ?? 0) + (dt.get(n.id) ?? 0) / 1000)
    }
    figures.profile_top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, ms]) => `${Math.round(ms)} ms ${k}`)
  }
  const p = await page.evaluate(() => ({ long: window.__perf.long, frames: window.__perf.frames, ms: performance.now() - window.__perf.t0 }))
  figures.long_tasks = p.long.length
  figures.longest_task_ms = Math.round(Math.max(0, ...p.long))
  figures.fps_during_events = +(p.frames / (p.ms / 1000)).toFixed(1)
  figures.rows_in_dom_after_events = await page.locator('[data-testid="tokens-table"] tbody tr[data-token-id]').count()
  figures.heap_mb = +((await page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0)) / 1048576).toFixed(1)
  await browser.close()
} finally {
  await server.stop()
}

mkdirSync(path.join(repo, 'test-results'), { recursive: true })
writeFileSync(path.join(repo, 'test-results', 'perf-tokens.json'), JSON.stringify(figures, null, 2))
console.log(JSON.stringify(figures, null, 2))
