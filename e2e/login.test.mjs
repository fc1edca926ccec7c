// Latchkey's login and consent pages in a real browser (Debian's Chromium via playwright-core).
//
// Builds nothing: expects LATCHKEY_BIN (default ../target/debug/latchkey) and CHROMIUM
// (default /usr/bin/chromium). Starts `latchkey serve --db :memory:` on a free port with a
// temporary config, and a tiny HTTP server standing in for the app's redirect URI.
// Screenshots go to ../test-results/ (gitignored).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
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

let server; // the latchkey child process
let serverLog = '';
let callbackServer;
let browser;
let tmp;
let issuer; // http://localhost:PORT (what discovery and the pages use)
let base; // http://127.0.0.1:PORT
let callbackUrl; // the registered redirect URI
const callbacks = []; // query strings the redirect URI received

before(async () => {
  const port = await freePort();
  const cbPort = await freePort();
  issuer = `http://localhost:${port}`;
  base = `http://127.0.0.1:${port}`;
  callbackUrl = `http://127.0.0.1:${cbPort}/callback`;

  callbackServer = http.createServer((req, res) => {
    const url = new URL(req.url, `http://127.0.0.1:${cbPort}`);
    if (url.pathname === '/callback') callbacks.push(Object.fromEntries(url.searchParams));
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>App</title><p>Signed in: back in the app.</p>');
  });
  await new Promise((r) => callbackServer.listen(cbPort, '127.0.0.1', r));

  tmp = mkdtempSync(path.join(tmpdir(), 'latchkey-e2e-'));
  const config = path.join(tmp, 'latchkey.toml');
  writeFileSync(
    config,
    `
[[clients]]
client_id = "browser-app"
client_secret = "browser-secret"
name = "Browser test app"
redirect_uris = ["${callbackUrl}"]
scopes = ["openid", "profile", "email"]

[[clients]]
client_id = "consent-app"
client_secret = "consent-secret"
name = "Third-party app"
redirect_uris = ["${callbackUrl}"]
scopes = ["openid", "profile", "email"]
require_consent = true

[[clients]]
client_id = "auto-app"
client_secret = "auto-secret"
name = "Hands-free test app"
redirect_uris = ["${callbackUrl}"]
scopes = ["openid", "profile", "email"]
auto_login = true

[[users]]
username = "alice"
password = "alice-password"
claims = { name = "Alice Liddell", email = "alice@example.com", email_verified = true }
acr = "urn:example:mfa"
amr = ["pwd", "otp"]

[[users]]
username = "bob"
password = "bob-password"
claims = { name = "Bob Builder", email = "bob@example.com" }
`,
  );

  server = spawn(BIN, ['serve', '--db', ':memory:', '--port', String(port), '--config', config], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout.on('data', (d) => (serverLog += d));
  server.stderr.on('data', (d) => (serverLog += d));
  const exited = new Promise((_, reject) =>
    server.once('exit', (code) => reject(new Error(`latchkey exited with ${code}:\n${serverLog}`))),
  );
  exited.catch(() => {});

  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const r = await Promise.race([fetch(`${base}/.well-known/openid-configuration`), exited]);
      if (r.ok) {
        const doc = await r.json();
        assert.equal(doc.issuer, issuer);
        break;
      }
    } catch (e) {
      if (server.exitCode !== null) throw new Error(`latchkey exited with ${server.exitCode}:\n${serverLog}`);
      if (Date.now() > deadline) throw new Error(`latchkey did not answer discovery in 30 s: ${e}\n${serverLog}`);
    }
    await sleep(100);
  }

  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
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
  await new Promise((r) => (callbackServer ? callbackServer.close(r) : r()));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function authorizeUrl(clientId, state, extra = {}) {
  const q = new URLSearchParams({
    client_id: clientId,
    response_type: 'code',
    redirect_uri: callbackUrl,
    scope: 'openid profile email',
    state,
    nonce: `nonce-${state}`,
    ...extra,
  });
  return `${issuer}/authorize?${q}`;
}

/** A fresh browser context that fails the test on CSP violations or page errors. */
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 900, height: 860 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  return { context, page, problems };
}

async function assertStyled(page) {
  // The page's <style> (allowed by its CSP nonce) applied: the card layout is in effect.
  const display = await page.evaluate(() => getComputedStyle(document.body).display);
  assert.equal(display, 'flex', 'the page stylesheet is applied');
}

/** Waits for the browser to arrive at the redirect URI; returns its query. */
async function arrival(page) {
  await page.waitForURL((u) => u.href.startsWith(callbackUrl), { timeout: 15_000 });
  return Object.fromEntries(new URL(page.url()).searchParams);
}

async function exchange(clientId, secret, code) {
  const r = await fetch(`${base}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: callbackUrl }),
  });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  return body;
}

function idTokenClaims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'));
}

test('a persona click reaches the redirect URI with a code and the state', async () => {
  const { context, page, problems } = await newPage();
  try {
    const response = await page.goto(authorizeUrl('browser-app', 'persona-state'));
    assert.equal(response.status(), 200);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await assertStyled(page);
    await page.screenshot({ path: path.join(SHOTS, 'login.png'), fullPage: true });
    const alice = page.locator('button[name="persona"][value="alice"]');
    assert.equal(await alice.count(), 1);
    await alice.click();
    const q = await arrival(page);
    assert.ok(q.code, 'a code');
    assert.equal(q.state, 'persona-state');
    assert.equal(q.iss, issuer);
    assert.deepEqual(callbacks.at(-1), q, 'the app received the same parameters');
    const tokens = await exchange('browser-app', 'browser-secret', q.code);
    const claims = idTokenClaims(tokens.id_token);
    assert.equal(claims.name, 'Alice Liddell');
    assert.equal(claims.nonce, 'nonce-persona-state');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a username and password login reaches the redirect URI with a code', async () => {
  const { context, page, problems } = await newPage();
  try {
    await page.goto(authorizeUrl('browser-app', 'password-state'));
    await page.locator('#username').fill('bob');
    await page.locator('#password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').waitFor();
    assert.match(await page.getByRole('alert').innerText(), /Wrong username or password/);
    assert.ok(!page.url().startsWith(callbackUrl), 'still on Latchkey');
    await page.screenshot({ path: path.join(SHOTS, 'login-error.png'), fullPage: true });

    await page.locator('#username').fill('bob');
    await page.locator('#password').fill('bob-password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const q = await arrival(page);
    assert.ok(q.code, 'a code');
    assert.equal(q.state, 'password-state');
    const tokens = await exchange('browser-app', 'browser-secret', q.code);
    assert.equal(idTokenClaims(tokens.id_token).email, 'bob@example.com');

    // Single sign-on: the session cookie answers the next authorization without a page.
    await page.goto(authorizeUrl('browser-app', 'sso-state'));
    const again = await arrival(page);
    assert.ok(again.code);
    assert.equal(again.state, 'sso-state');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the consent page approves and reaches the redirect URI with a code', async () => {
  const { context, page, problems } = await newPage();
  try {
    await page.goto(authorizeUrl('consent-app', 'consent-state'));
    await page.locator('button[name="persona"][value="alice"]').click();
    await page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await assertStyled(page);
    assert.match(await page.locator('main').innerText(), /Third-party app/);
    await page.screenshot({ path: path.join(SHOTS, 'consent.png'), fullPage: true });
    await page.getByRole('button', { name: 'Allow' }).click();
    const q = await arrival(page);
    assert.ok(q.code, 'a code');
    assert.equal(q.state, 'consent-state');
    const tokens = await exchange('consent-app', 'consent-secret', q.code);
    assert.equal(idTokenClaims(tokens.id_token).email, 'alice@example.com');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a sign-in request started in another browser is refused there, and the owner still completes it', async () => {
  const owner = await newPage();
  const other = await newPage();
  try {
    await owner.page.goto(authorizeUrl('consent-app', 'bound-state'));
    const req = await owner.page.locator('input[name="req"]').first().getAttribute('value');
    assert.ok(req);
    // The other browser opens the login page by its id, and posts the login form from a page of
    // its own (a lured victim, a cross-site form): refused, nothing issued.
    await other.page.goto(`${issuer}/login?req=${encodeURIComponent(req)}`);
    assert.match(await other.page.locator('main').innerText(), /Sign-in request from another browser/);
    await other.page.setContent(
      `<form method="post" action="${issuer}/login"><input name="req" value="${req}">` +
        `<input name="persona" value="alice"><button>go</button></form>`,
    );
    await other.page.locator('button').click();
    await other.page.getByRole('heading', { name: 'Sign-in request from another browser' }).waitFor();
    assert.ok(!other.page.url().startsWith(callbackUrl));
    // The browser that started it signs in (bob: alice's consent to this app is remembered from
    // the test above), approves and gets its code.
    await owner.page.locator('button[name="persona"][value="bob"]').click();
    await owner.page.getByRole('heading', { name: 'Allow access?' }).waitFor();
    await owner.page.getByRole('button', { name: 'Allow' }).click();
    const q = await arrival(owner.page);
    assert.equal(q.state, 'bound-state');
    assert.ok(q.code);
    assert.deepEqual(owner.problems, []);
  } finally {
    await owner.context.close();
    await other.context.close();
  }
});

test('auto_login signs the hinted persona in without a click, through a real session', async () => {
  const { context, page, problems } = await newPage();
  try {
    const seen = [];
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) seen.push(f.url());
    });
    await page.goto(authorizeUrl('auto-app', 'auto-state', { login_hint: 'alice' }));
    const q = await arrival(page);
    assert.equal(q.state, 'auto-state');
    assert.ok(q.code, 'a code');
    assert.ok(!seen.some((u) => u.startsWith(`${issuer}/login`)), `no login page: ${seen.join(' ')}`);
    const tokens = await exchange('auto-app', 'auto-secret', q.code);
    const claims = idTokenClaims(tokens.id_token);
    assert.equal(claims.name, 'Alice Liddell');
    assert.equal(claims.acr, 'urn:example:mfa', "the persona's level");
    assert.deepEqual(claims.amr, ['pwd', 'otp']);
    // A real session: the browser holds the cookie, and another client signs in by SSO.
    const cookies = await context.cookies(issuer);
    assert.ok(cookies.some((c) => c.name === 'latchkey_session' && c.httpOnly), JSON.stringify(cookies));
    await page.goto(authorizeUrl('browser-app', 'auto-sso'));
    const again = await arrival(page);
    assert.equal(again.state, 'auto-sso');
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the pages carry data-testid hooks for Playwright and Cypress', async () => {
  const { context, page, problems } = await newPage();
  try {
    const essential = JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:example:mfa'] } } });
    await page.goto(authorizeUrl('consent-app', 'testid-state', { claims: essential, prompt: 'consent' }));
    await page.getByTestId('login-title').waitFor();
    assert.equal(await page.getByTestId('login-client').innerText(), 'Third-party app');
    assert.match(await page.getByTestId('login-acr-request').innerText(), /requires/);
    assert.match(await page.getByTestId('persona-acr-alice').innerText(), /second factor/);
    assert.match(await page.getByTestId('persona-acr-bob').innerText(), /below the requested level/);
    await page.screenshot({ path: path.join(SHOTS, 'login-step-up.png'), fullPage: true });
    await page.getByTestId('persona-alice').click();
    await page.getByTestId('consent-title').waitFor();
    assert.equal(await page.getByTestId('consent-user').innerText(), 'alice');
    await page.getByTestId('consent-approve').click();
    const q = await arrival(page);
    assert.equal(q.state, 'testid-state');
    const tokens = await exchange('consent-app', 'consent-secret', q.code);
    assert.equal(idTokenClaims(tokens.id_token).acr, 'urn:example:mfa');

    // Bob cannot meet the essential level: the flow ends at the app with access_denied.
    const other = await newPage();
    try {
      await other.page.goto(authorizeUrl('browser-app', 'denied-state', { claims: essential }));
      await other.page.getByTestId('persona-bob').click();
      const d = await arrival(other.page);
      assert.equal(d.error, 'access_denied');
      assert.equal(d.state, 'denied-state');
      assert.deepEqual(other.problems, []);
    } finally {
      await other.context.close();
    }
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
