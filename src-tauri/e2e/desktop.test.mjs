// The real desktop window, under Xvfb, driven through tauri-driver and WebKitWebDriver.
// Each launch gets its own data and config directories (XDG_DATA_HOME, XDG_CONFIG_HOME) and a
// free port (LATCHKEY_PORT), so the tests never touch the user's database or settings.
// Run by scripts/desktop-test.sh; screenshots go to test-results/desktop/.

import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, execFileSync } from 'node:child_process'
import { createServer } from 'node:net'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { Builder, By, until } from 'selenium-webdriver'

const here = path.dirname(fileURLToPath(import.meta.url))
const repo = path.resolve(here, '..', '..')
const app = process.env.LATCHKEY_DESKTOP_BIN ?? path.join(repo, 'target', 'debug', 'latchkey-desktop')
const shots = path.join(repo, 'test-results', 'desktop')
const driverBin = process.env.TAURI_DRIVER ?? (existsSync(path.join(repo, '.tools', 'bin', 'tauri-driver')) ? path.join(repo, '.tools', 'bin', 'tauri-driver') : 'tauri-driver')
const IDENTIFIER = 'dev.latchkey.desktop'

mkdirSync(shots, { recursive: true })
const temps = []
after(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true })
})

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** Holds a loopback port until released, like another program would. */
function occupy(port) {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.on('error', reject)
    s.listen(port, '127.0.0.1', () => resolve(() => new Promise((r) => s.close(r))))
  })
}

async function waitForHttp(url, ms = 20000) {
  const end = Date.now() + ms
  let last
  while (Date.now() < end) {
    try {
      const r = await fetch(url)
      if (r.ok) return r
      last = new Error(`HTTP ${r.status}`)
    } catch (e) {
      last = e
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no answer from ${url}: ${last}`)
}

function isolatedHome() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'latchkey-desktop-e2e-'))
  temps.push(root)
  return {
    root,
    data: path.join(root, 'data'),
    config: path.join(root, 'config'),
    settings: path.join(root, 'config', IDENTIFIER, 'settings.json'),
    db: path.join(root, 'data', 'latchkey', 'latchkey.db'),
  }
}

/** Starts tauri-driver (and through it WebKitWebDriver and the app) with `env`; returns a session. */
async function launch(home, env = {}) {
  assert.ok(existsSync(app), `no desktop build at ${app}: run cargo build -p latchkey-desktop`)
  const port = await freePort()
  const nativePort = await freePort()
  const childEnv = { ...process.env, XDG_DATA_HOME: home.data, XDG_CONFIG_HOME: home.config, LATCHKEY_LOG: 'info', ...env }
  for (const [k, v] of Object.entries(childEnv)) if (v === undefined) delete childEnv[k]
  // Its own process group, so quitting reaches WebKitWebDriver and the app too.
  const driver = spawn(driverBin, ['--port', String(port), '--native-port', String(nativePort)], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let log = ''
  driver.stdout.on('data', (d) => (log += d))
  driver.stderr.on('data', (d) => (log += d))
  const exited = new Promise((r) => driver.once('exit', r))
  const end = Date.now() + 15000
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`)
      break
    } catch {
      if (Date.now() > end || driver.exitCode !== null) throw new Error(`tauri-driver did not start:\n${log}`)
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const session = await new Builder()
    .usingServer(`http://127.0.0.1:${port}/`)
    .withCapabilities({ browserName: 'wry', 'tauri:options': { application: app } })
    .build()
  return {
    session,
    log: () => log,
    async quit() {
      try {
        await session.quit()
      } catch {
        // The app may already be gone.
      }
      // The whole group: tauri-driver, WebKitWebDriver, and the app if it is still there. Whatever
      // has not gone after 5 s is killed, so no process outlives the test (or keeps it running).
      const group = (sig) => {
        try {
          process.kill(-driver.pid, sig)
        } catch {
          // Already gone.
        }
      }
      group('SIGTERM')
      const gone = await Promise.race([exited.then(() => true), new Promise((r) => setTimeout(() => r(false), 5000))])
      if (!gone) group('SIGKILL')
      await new Promise((r) => setTimeout(r, 200))
      group('SIGKILL')
      driver.stdout.destroy()
      driver.stderr.destroy()
    },
  }
}

async function screenshot(session, name) {
  // The webview as WebDriver sees it, then the whole X screen (menu bar included) when a display
  // and ImageMagick are there. The X server lags behind the webview's paint, so give it a moment.
  writeFileSync(path.join(shots, `${name}.png`), await session.takeScreenshot(), 'base64')
  if (process.env.DISPLAY) {
    await new Promise((r) => setTimeout(r, 700))
    try {
      execFileSync('import', ['-window', 'root', path.join(shots, `${name}-screen.png`)], { stdio: 'ignore' })
    } catch {
      // No ImageMagick: the WebDriver screenshot still shows the page.
    }
  }
}

const xpathText = (tag, text) => By.xpath(`//${tag}[normalize-space(.)=${JSON.stringify(text)}]`)

async function waitForOverview(session, issuer) {
  await session.wait(until.elementLocated(xpathText('h1', 'Overview')), 20000, 'the Overview did not show')
  await session.wait(
    until.elementLocated(By.xpath(`//span[contains(@class,"v") and normalize-space(.)=${JSON.stringify(issuer)}]`)),
    15000,
    `the Overview does not show the issuer ${issuer}`,
  )
}

test('the window opens the Overview of the embedded server, and a client created in it is stored', async () => {
  const home = isolatedHome()
  const port = await freePort()
  const issuer = `http://localhost:${port}`
  const run = await launch(home, { LATCHKEY_PORT: String(port) })
  try {
    // The embedded server answers discovery on the chosen port, with the isolated database.
    const disco = await (await waitForHttp(`${issuer}/.well-known/openid-configuration`)).json()
    assert.equal(disco.issuer, issuer)
    assert.equal(disco.token_endpoint, `${issuer}/token`)
    assert.ok(existsSync(home.db), `the database is not in the isolated data directory: ${home.db}`)

    const s = run.session
    await waitForOverview(s, issuer)
    assert.equal(await s.getCurrentUrl(), `${issuer}/admin/`)
    await s.wait(until.elementLocated(By.css('[data-testid="connection"][data-state="live"]')), 10000, 'the event stream did not connect')
    await screenshot(s, '01-overview')

    // Create a client through the window's form.
    await s.findElement(By.xpath('//nav[@aria-label="Main"]//a[starts-with(normalize-space(.),"Clients")]')).click()
    await s.wait(until.elementLocated(xpathText('h1', 'Clients')), 10000)
    await s.findElement(By.xpath('//a[normalize-space(.)="New client"]')).click()
    await s.wait(until.elementLocated(By.css('#client_id')), 10000)
    await s.findElement(By.css('#name')).sendKeys('Desktop demo')
    await s.findElement(By.css('#client_id')).sendKeys('desktop-demo')
    const secret = await s.findElement(By.css('#client_secret'))
    await secret.clear()
    await secret.sendKeys('desktop-demo-secret')
    await screenshot(s, '02-client-form')
    await s.findElement(By.xpath('//button[normalize-space(.)="Create client"]')).click()
    await s.wait(until.urlContains('/admin/clients/desktop-demo'), 10000, 'the form did not create the client')
    await s.wait(until.elementLocated(By.xpath('//button[normalize-space(.)="Save changes"]')), 10000)
    await screenshot(s, '03-client-created')

    // The Overview now has the client's quick start.
    await s.findElement(By.xpath('//nav[@aria-label="Main"]//a[starts-with(normalize-space(.),"Overview")]')).click()
    await waitForOverview(s, issuer)
    await s.wait(until.elementLocated(By.xpath('//*[@data-testid="stat-Clients" and normalize-space(.)="1"]')), 10000, 'the Overview does not count the new client')
    await s.wait(until.elementLocated(By.xpath('//h3[normalize-space(.)="Get a token"]')), 10000, 'no quick start for the new client')
    await screenshot(s, '04-overview-with-client')

    const clients = await (await fetch(`${issuer}/admin/api/clients`)).json()
    const list = Array.isArray(clients) ? clients : clients.items
    const created = list.find((c) => c.client_id === 'desktop-demo')
    assert.ok(created, `GET /admin/api/clients does not list desktop-demo: ${JSON.stringify(clients)}`)
    assert.equal(created.name, 'Desktop demo')

    // And it works at the token endpoint, as the user's app would use it.
    const t = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        Authorization: `Basic ${Buffer.from('desktop-demo:desktop-demo-secret').toString('base64')}`,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    })
    assert.equal(t.status, 200, await t.clone().text())
  } catch (e) {
    e.message += `\n--- app and driver log ---\n${run.log()}`
    throw e
  } finally {
    await run.quit()
  }
})

test('over HTTPS (LATCHKEY_TLS): the window trusts the server certificate and shows the live UI', async () => {
  const home = isolatedHome()
  const port = await freePort()
  const issuer = `https://localhost:${port}`
  const tlsDir = path.join(home.root, 'tls')
  const run = await launch(home, { LATCHKEY_PORT: String(port), LATCHKEY_TLS: '1', LATCHKEY_TLS_DIR: tlsDir })
  try {
    const s = run.session
    await waitForOverview(s, issuer)
    assert.equal(await s.getCurrentUrl(), `${issuer}/admin/`)
    // The event stream works over TLS too.
    await s.wait(until.elementLocated(By.css('[data-testid="connection"][data-state="live"]')), 10000, 'the event stream did not connect')
    assert.ok(existsSync(path.join(tlsDir, 'ca.pem')), 'the local CA is made in LATCHKEY_TLS_DIR')
    assert.ok(existsSync(path.join(tlsDir, 'server.pem')))
    await screenshot(s, '05-https-overview')
  } catch (e) {
    throw new Error(`${e.message}\n${run.log()}`)
  } finally {
    await run.quit()
  }
})

test('a taken port: the window says so, the picked port is used and remembered', async () => {
  const home = isolatedHome()
  const taken = await freePort()
  const release = await occupy(taken)
  let run
  try {
    run = await launch(home, { LATCHKEY_PORT: String(taken) })
    const s = run.session
    await s.wait(until.elementLocated(xpathText('h1', `Port ${taken} is already in use`)), 20000, 'no port-taken screen')
    const input = await s.findElement(By.css('#port'))
    await s.wait(async () => (await input.getAttribute('value')) !== '', 5000, 'no suggested port')
    await screenshot(s, '05-port-taken')

    const picked = await freePort()
    await input.clear()
    await input.sendKeys(String(picked))
    await s.findElement(By.css('#start')).click()
    const issuer = `http://localhost:${picked}`
    await waitForOverview(s, issuer)
    await s.wait(until.elementLocated(By.css('[data-testid="connection"][data-state="live"]')), 10000)
    await screenshot(s, '06-after-picking-a-port')
    const disco = await (await waitForHttp(`${issuer}/.well-known/openid-configuration`)).json()
    assert.equal(disco.issuer, issuer)
    assert.deepEqual(JSON.parse(readFileSync(home.settings, 'utf8')), { port: picked, tls: false })
    await run.quit()
    run = undefined

    // The next start uses the remembered port (no LATCHKEY_PORT this time), straight to the UI.
    run = await launch(home, { LATCHKEY_PORT: undefined })
    await waitForOverview(run.session, issuer)
    assert.equal(await run.session.getCurrentUrl(), `${issuer}/admin/`)
  } catch (e) {
    if (run) e.message += `\n--- app and driver log ---\n${run.log()}`
    throw e
  } finally {
    await run?.quit()
    await release()
  }
})

test('a config file that does not validate: the window names the file, line and key', async () => {
  const home = isolatedHome()
  const config = path.join(home.root, 'latchkey.toml')
  writeFileSync(config, '[server]\nport = 8000\n\n[[clients]]\nclient_id = "web"\ncolour = "blue"\n')
  const run = await launch(home, { LATCHKEY_PORT: String(await freePort()), LATCHKEY_CONFIG: config })
  try {
    const s = run.session
    const title = await s.wait(until.elementLocated(xpathText('h1', 'Latchkey could not start')), 20000, 'no start-failure screen')
    await s.wait(until.elementIsVisible(title), 10000, 'the start-failure screen is not shown')
    const error = await s.findElement(By.css('#reason'))
    await s.wait(until.elementIsVisible(error), 5000)
    const text = await error.getText()
    assert.match(text, /latchkey\.toml/)
    assert.match(text, /6/)
    assert.match(text, /colour/)
    await screenshot(s, '07-config-error')
  } catch (e) {
    e.message += `\n--- app and driver log ---\n${run.log()}`
    throw e
  } finally {
    await run.quit()
  }
})

test('--port and --config on the command line; SIGTERM shuts the server down gracefully (the path Quit takes)', async () => {
  const home = isolatedHome()
  const port = await freePort()
  const config = path.join(home.root, 'latchkey.toml')
  writeFileSync(
    config,
    '[[clients]]\nclient_id = "from-config"\nclient_secret = "s3cret"\ngrant_types = ["client_credentials"]\n',
  )
  const child = spawn(app, ['--port', String(port), '--config', config], {
    env: { ...process.env, XDG_DATA_HOME: home.data, XDG_CONFIG_HOME: home.config, LATCHKEY_PORT: undefined, LATCHKEY_LOG: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let log = ''
  child.stdout.on('data', (d) => (log += d))
  child.stderr.on('data', (d) => (log += d))
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })))
  try {
    await waitForHttp(`http://localhost:${port}/.well-known/openid-configuration`)
    const client = await fetch(`http://localhost:${port}/admin/api/clients/from-config`)
    assert.equal(client.status, 200, 'the client from --config is not registered')
    child.kill('SIGTERM')
    const { code, signal } = await Promise.race([exited, new Promise((_, rej) => setTimeout(() => rej(new Error('no exit within 10 s')), 10000))])
    assert.equal(signal, null)
    assert.equal(code, 0)
    assert.match(log, /shutting down/)
    assert.match(log, /stopped/)
    // The port is free again.
    const release = await occupy(port)
    await release()
  } catch (e) {
    child.kill('SIGKILL')
    e.message += `\n--- app log ---\n${log}`
    throw e
  }
})
