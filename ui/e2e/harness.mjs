// Starts `latchkey serve` on a free loopback port and Chromium (Debian's, via playwright-core).

import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdirSync, existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = path.dirname(fileURLToPath(import.meta.url))
export const repo = path.resolve(here, '..', '..')
export const shots = path.join(repo, 'test-results', 'screenshots')

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.unref()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function waitFor(url, ms = 15000) {
  const end = Date.now() + ms
  let last
  while (Date.now() < end) {
    try {
      const r = await fetch(url)
      if (r.ok) return
      last = new Error(`HTTP ${r.status}`)
    } catch (e) {
      last = e
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`the server did not answer ${url}: ${last}`)
}

export async function startServer(args = []) {
  const bin = process.env.LATCHKEY_BIN ?? path.join(repo, 'target', 'debug', 'latchkey')
  if (!existsSync(bin)) throw new Error(`no server binary at ${bin}: run cargo build (or set LATCHKEY_BIN)`)
  const port = await freePort()
  const child = spawn(bin, ['serve', '--db', ':memory:', '--port', String(port), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  })
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  const base = `http://localhost:${port}`
  try {
    await waitFor(`${base}/admin/api/status`)
  } catch (e) {
    child.kill()
    throw new Error(`${e.message}\n${log}`)
  }
  return {
    base,
    port,
    log: () => log,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', resolve)
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 5000).unref()
      }),
  }
}

export async function launch() {
  mkdirSync(shots, { recursive: true })
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
}

export async function shot(page, name) {
  // Let transitions and the fresh-row highlight settle so the picture is what a user sees.
  await page.evaluate(() => window.scrollTo(0, 0))
  await page.waitForTimeout(250)
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true })
}
