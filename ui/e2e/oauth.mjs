// The OAuth protocol driven over HTTP the way an app and a browser would, for the browser
// tests: authorization request, the login form (with its flow cookie), the code exchange,
// refreshes.

import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'

const b64url = (buf) => Buffer.from(buf).toString('base64url')

/** A PKCE S256 pair (RFC 7636). */
export function pkce() {
  const verifier = b64url(randomBytes(32))
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) }
}

function cookiesOf(res, jar) {
  for (const c of res.headers.getSetCookie?.() ?? []) {
    const [pair] = c.split(';')
    const i = pair.indexOf('=')
    jar.set(pair.slice(0, i), pair.slice(i + 1))
  }
}
const cookieHeader = (jar) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')

/** Authorization request + password login; returns the code from the redirect. */
export async function authorize(base, { clientId, redirectUri, scope, username, password, challenge }) {
  const jar = new Map()
  const q = new URLSearchParams({
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope, state: b64url(randomBytes(8)),
    code_challenge: challenge, code_challenge_method: 'S256',
  })
  const r1 = await fetch(`${base}/authorize?${q}`, { redirect: 'manual' })
  cookiesOf(r1, jar)
  const html = await r1.text()
  assert.equal(r1.status, 200, html)
  const req = /name="req" value="([^"]+)"/.exec(html)?.[1]
  assert.ok(req, 'the login form carries the request id')
  const r2 = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookieHeader(jar) },
    body: new URLSearchParams({ req, username, password }),
  })
  const loc = r2.headers.get('location')
  assert.ok(r2.status >= 300 && r2.status < 400 && loc, `a redirect after login, got ${r2.status}: ${await r2.text()}`)
  const code = new URL(loc).searchParams.get('code')
  assert.ok(code, loc)
  return code
}

/** POST /token with HTTP Basic; returns [status, json]. */
export async function token(base, clientId, secret, params) {
  const r = await fetch(`${base}/token`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams(params),
  })
  return [r.status, await r.json()]
}

/** POST /introspect with HTTP Basic (RFC 7662). */
export async function introspect(base, clientId, secret, tokenValue) {
  const r = await fetch(`${base}/introspect`, {
    method: 'POST',
    headers: {
      Authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'Content-Type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token: tokenValue }),
  })
  assert.equal(r.status, 200)
  return r.json()
}

/** The admin API's record of a token value. */
export async function recordOf(base, value) {
  const r = await fetch(`${base}/admin/api/tokens/inspect`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: value }),
  })
  assert.equal(r.status, 200)
  return (await r.json()).record
}
