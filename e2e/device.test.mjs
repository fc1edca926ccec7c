// The device flow's verification page (RFC 8628 §3.3) in a real browser (Debian's Chromium via
// playwright-core), while a "device" polls the token endpoint over HTTP.
//
// Builds nothing: expects LATCHKEY_BIN (default ../target/debug/latchkey) and CHROMIUM
// (default /usr/bin/chromium). Screenshots of every step at 1366x850 and 1024x700, light and
// dark, go to ../test-results/ (gitignored): device-*.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, process.env.LATCHKEY_BIN ?? '../target/debug/latchkey');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.resolve(here, '../test-results');
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
let serverLog = '';
let browser;
let tmp;
let issuer;
let base;

before(async () => {
  const port = await freePort();
  issuer = `http://localhost:${port}`;
  base = `http://127.0.0.1:${port}`;
  tmp = mkdtempSync(path.join(tmpdir(), 'latchkey-device-e2e-'));
  const config = path.join(tmp, 'latchkey.toml');
  writeFileSync(
    config,
    `
[[scopes]]
name = "read_books"
description = "Read the book catalogue"

[[clients]]
client_id = "tv"
name = "Living-room TV"
token_endpoint_auth_method = "none"
grant_types = ["${DEVICE_GRANT}"]
scopes = ["openid", "profile", "read_books"]

[[users]]
username = "alice"
password = "alice-password"
claims = { name = "Alice Liddell", email = "alice@example.com" }

[[users]]
username = "bob"
claims = { name = "Bob Builder", email = "bob@example.com" }
`,
  );
  server = spawn(BIN, ['serve', '--db', ':memory:', '--port', String(port), '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await fetch(`${base}/.well-known/openid-configuration`);
      if (r.ok) {
        const doc = await r.json();
        assert.equal(doc.device_authorization_endpoint, `${issuer}/device_authorization`);
        break;
      }
    } catch (e) {
      if (server.exitCode !== null) throw new Error(`latchkey exited with ${server.exitCode}:\n${serverLog}`);
      if (Date.now() > deadline) throw new Error(`latchkey did not answer in 30 s: ${e}\n${serverLog}`);
    }
    await sleep(100);
  }
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const gone = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([gone, sleep(5000)]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** The device's side: ask for codes. */
async function startDevice(scope = 'openid read_books') {
  const r = await fetch(`${base}/device_authorization`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: 'tv', scope }),
  });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  return body;
}

/** The device's side: one poll. */
async function poll(deviceCode) {
  const r = await fetch(`${base}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: 'tv' }),
  });
  return [r.status, await r.json()];
}

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1366, height: 850 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

/** The page as it is now, at both sizes, light and dark (the page follows prefers-color-scheme). */
async function shots(page, name) {
  for (const [size, viewport] of [['1366', { width: 1366, height: 850 }], ['1024', { width: 1024, height: 700 }]]) {
    for (const scheme of ['light', 'dark']) {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme: scheme });
      await page.screenshot({ path: path.join(SHOTS, `device-${name}-${size}-${scheme}.png`), fullPage: true });
    }
  }
  await page.setViewportSize({ width: 1366, height: 850 });
  await page.emulateMedia({ colorScheme: 'light' });
}

test('a user types the code, signs in with a persona, allows the device, and the device gets tokens', async () => {
  const d = await startDevice();
  const { context, page, problems } = await newPage();
  try {
    await page.goto(d.verification_uri);
    await page.getByTestId('device-title').waitFor();
    const display = await page.evaluate(() => getComputedStyle(document.body).display);
    assert.equal(display, 'flex', 'the page stylesheet is applied (CSP nonce)');
    await shots(page, 'enter');
    // Case and the dash do not matter.
    await page.getByTestId('device-code-input').fill(d.user_code.toLowerCase().replace('-', ''));
    await page.getByTestId('device-code-submit').click();
    await page.getByTestId('device-signin-title').waitFor();
    assert.equal(await page.getByTestId('device-user-code').innerText(), d.user_code);
    assert.equal(await page.getByTestId('device-client').innerText(), 'Living-room TV');
    await shots(page, 'signin');
    assert.equal((await poll(d.device_code))[1].error, 'authorization_pending');
    await page.getByTestId('persona-alice').click();
    await page.getByTestId('device-consent-title').waitFor();
    assert.equal(await page.getByTestId('device-consent-user').innerText(), 'alice');
    assert.ok(await page.getByTestId('device-scope-read_books').isVisible());
    await shots(page, 'consent');
    await page.getByTestId('device-approve').click();
    await page.getByTestId('device-done-title').waitFor();
    await shots(page, 'done');
    const [status, tokens] = await poll(d.device_code);
    assert.equal(status, 200, JSON.stringify(tokens));
    assert.equal(tokens.scope, 'openid read_books');
    const claims = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url').toString());
    assert.equal(claims.aud, 'tv');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('verification_uri_complete shows the code to match; a signed-in user continues and can deny', async () => {
  const d = await startDevice('read_books');
  const { context, page, problems } = await newPage();
  try {
    // Sign in once with a password (the session then continues).
    const first = await startDevice('read_books');
    await page.goto(first.verification_uri_complete);
    await page.getByTestId('device-username').fill('alice');
    await page.getByTestId('device-password').fill('wrong');
    await page.getByTestId('device-signin-submit').click();
    await page.getByTestId('device-error').waitFor();
    assert.match(await page.getByTestId('device-error').innerText(), /Wrong username or password/);
    await shots(page, 'signin-error');
    await page.getByTestId('device-password').fill('alice-password');
    await page.getByTestId('device-signin-submit').click();
    await page.getByTestId('device-approve').click();
    await page.getByTestId('device-done-title').waitFor();

    await page.goto(d.verification_uri_complete);
    await page.getByTestId('device-continue').waitFor();
    assert.equal(await page.getByTestId('device-user-code').innerText(), d.user_code, 'shown for a visual match');
    await shots(page, 'complete-signed-in');
    assert.equal((await poll(d.device_code))[1].error, 'authorization_pending', 'nothing approved by opening the link');
    await page.getByTestId('device-continue').click();
    await page.getByTestId('device-deny').click();
    await page.getByTestId('device-denied-title').waitFor();
    await shots(page, 'denied');
    const [status, body] = await poll(d.device_code);
    assert.equal(status, 400);
    assert.equal(body.error, 'access_denied');
    // Back on the same link: the code was answered.
    await page.goto(d.verification_uri_complete);
    await page.getByTestId('device-gone-title').waitFor();
    assert.equal(await page.getByTestId('device-gone-title').innerText(), 'Already denied');
    // The answered code's page is a 400, which Chromium logs; nothing else.
    assert.deepEqual(problems.filter((p) => !/status of 400/.test(p)), []);
  } finally {
    await context.close();
  }
});

test('guessing codes is stopped after five wrong ones with a clear page', async () => {
  const { context, page, problems } = await newPage();
  try {
    await page.goto(`${issuer}/device`);
    for (let i = 0; i < 5; i++) {
      await page.getByTestId('device-code-input').fill('BCDF-GHJK');
      await page.getByTestId('device-code-submit').click();
      await page.getByTestId('device-error').waitFor();
    }
    assert.match(await page.getByTestId('device-error').innerText(), /No device is waiting for that code/);
    await shots(page, 'wrong-code');
    await page.getByTestId('device-code-input').fill('BCDF-GHJK');
    await page.getByTestId('device-code-submit').click();
    await page.getByTestId('device-too-many').waitFor();
    assert.match(await page.getByTestId('device-too-many-message').innerText(), /in this browser/);
    await shots(page, 'too-many');
    // 429 responses log a console error in Chromium ("Failed to load resource"); nothing else.
    assert.deepEqual(problems.filter((p) => !/429/.test(p) && !/400/.test(p)), []);
  } finally {
    await context.close();
  }
});
