// Verifying a JWS signature in the browser with `jose`, against a key the user pastes: a shared
// secret (HS256/384/512), a PEM (public key or certificate), a JWK or JWK Set, or a JWK Set
// the server fetched from a loopback URL. Only the signature is checked here; time claims get
// their own verdict against the server's (virtual) clock (`timeVerdict`).

import { compactVerify, createLocalJWKSet, decodeProtectedHeader, importJWK, importSPKI, importX509, type JWK, type JSONWebKeySet } from 'jose'
import { formatDuration } from './format'

export type KeySource = 'secret' | 'pem' | 'jwk' | 'jwks-url'

export interface VerifyResult {
  ok: boolean
  /** For people: what was verified with what, or why not. */
  message: string
  /** The key that verified it (its kid), when a set was used. */
  kid?: string
}

/** `Bearer eyJ…` (any case, or a whole `Authorization: Bearer …` line) → `eyJ…`. */
export function stripBearer(s: string): string {
  let t = s.trim()
  t = t.replace(/^authorization:\s*/i, '')
  t = t.replace(/^bearer\s+/i, '')
  return t.trim()
}

function errorText(e: unknown): string {
  const code = (e as { code?: string })?.code
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') return 'the signature does not match this key'
  if (code === 'ERR_JWKS_NO_MATCHING_KEY') return 'no key in the set matches the token’s kid and alg'
  if (code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') return 'several keys in the set match and none verifies'
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') return 'the key cannot be used with the token’s alg'
  return e instanceof Error ? e.message : String(e)
}

function base64urlToBytes(s: string): Uint8Array {
  const b64 = s.trim().replace(/-/g, '+').replace(/_/g, '/')
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
  return Uint8Array.from(bin, (c) => c.charCodeAt(0))
}

/**
 * Verifies the signature of `token` with `input` read as `source`. `jwks` is the set fetched
 * for the `jwks-url` source. Never throws: a result says why not.
 */
export async function verifySignature(
  token: string,
  source: KeySource,
  input: string,
  opts: { secretIsBase64url?: boolean; jwks?: JSONWebKeySet } = {},
): Promise<VerifyResult> {
  let alg: string | undefined
  try {
    alg = decodeProtectedHeader(token).alg
  } catch {
    return { ok: false, message: 'This is not a JWS: there is no header to read.' }
  }
  if (!alg) return { ok: false, message: 'The header has no alg.' }
  if (alg.toLowerCase() === 'none') {
    return { ok: false, message: 'The token is unsigned (alg: none): there is no signature to verify, and no verifier should accept it.' }
  }
  try {
    if (source === 'secret') {
      if (!alg.startsWith('HS')) {
        return { ok: false, message: `The token is signed with ${alg}, a public-key algorithm: paste a PEM, a JWK or a JWKS URL instead of a secret.` }
      }
      if (!input) return { ok: false, message: 'Paste the shared secret.' }
      const key = opts.secretIsBase64url ? base64urlToBytes(input) : new TextEncoder().encode(input)
      await compactVerify(token, key, { algorithms: [alg] })
      return { ok: true, message: `Verified: ${alg} with the secret you pasted.` }
    }
    if (alg.startsWith('HS')) {
      if (source === 'jwk') {
        const jwk = JSON.parse(input) as JWK
        if (jwk.kty === 'oct') {
          await compactVerify(token, await importJWK(jwk, alg), { algorithms: [alg] })
          return { ok: true, message: `Verified: ${alg} with the oct JWK you pasted.` }
        }
      }
      return { ok: false, message: `The token is signed with ${alg}, a shared secret: choose “Secret” and paste it.` }
    }
    if (source === 'pem') {
      const pem = input.trim()
      if (!pem.startsWith('-----BEGIN')) return { ok: false, message: 'A PEM starts with -----BEGIN PUBLIC KEY----- or -----BEGIN CERTIFICATE-----.' }
      if (/PRIVATE KEY/.test(pem.split('\n')[0])) return { ok: false, message: 'That is a private key: paste the public key (-----BEGIN PUBLIC KEY-----) or a certificate.' }
      const key = pem.includes('BEGIN CERTIFICATE') ? await importX509(pem, alg) : await importSPKI(pem, alg)
      await compactVerify(token, key, { algorithms: [alg] })
      return { ok: true, message: `Verified: ${alg} with the PEM you pasted.` }
    }
    let set: JSONWebKeySet
    if (source === 'jwks-url') {
      if (!opts.jwks) return { ok: false, message: 'Fetch the JWKS first.' }
      set = opts.jwks
    } else {
      let parsed: unknown
      try {
        parsed = JSON.parse(input)
      } catch {
        return { ok: false, message: 'That is not JSON: paste a JWK ({"kty": …}) or a JWK Set ({"keys": […]}).' }
      }
      const obj = parsed as { keys?: unknown; kty?: unknown }
      if (Array.isArray(obj.keys)) set = parsed as JSONWebKeySet
      else if (typeof obj.kty === 'string') {
        const jwk = parsed as JWK
        if ('d' in jwk) return { ok: false, message: 'That JWK holds a private key (d): paste the public part.' }
        // A single key verifies whatever its kid says (the user chose it).
        await compactVerify(token, await importJWK({ ...jwk, alg: jwk.alg ?? alg }, alg), { algorithms: [alg] })
        return { ok: true, message: `Verified: ${alg} with the JWK you pasted${jwk.kid ? ` (kid ${jwk.kid})` : ''}.` }
      } else return { ok: false, message: 'That JSON is neither a JWK (no kty) nor a JWK Set (no keys array).' }
    }
    const jwks = createLocalJWKSet(set)
    let used: string | undefined
    await compactVerify(token, async (header, t) => {
      const k = await jwks(header, t)
      used = header.kid
      return k
    }, { algorithms: [alg] })
    return { ok: true, message: `Verified: ${alg} with ${used ? `key ${used} of` : 'a key in'} the ${source === 'jwks-url' ? 'fetched' : 'pasted'} JWK Set.`, kid: used }
  } catch (e) {
    return { ok: false, message: `Not verified: ${errorText(e)}.` }
  }
}

export interface TimeVerdict {
  state: 'valid' | 'expired' | 'not-yet-valid' | 'no-exp'
  message: string
}

/** `exp` and `nbf` against `now` (server clock, seconds), as a verifier without leeway would. */
export function timeVerdict(payload: Record<string, unknown> | null, now: number, offset = 0): TimeVerdict | null {
  if (!payload) return null
  const exp = typeof payload.exp === 'number' ? payload.exp : undefined
  const nbf = typeof payload.nbf === 'number' ? payload.nbf : undefined
  const clock = offset === 0 ? 'server clock' : `server clock, shifted ${offset > 0 ? '+' : '−'}${formatDuration(offset)}`
  if (nbf !== undefined && nbf > now) {
    return { state: 'not-yet-valid', message: `Not yet valid: nbf is ${formatDuration(nbf - now)} from now (${clock}).` }
  }
  if (exp !== undefined && exp <= now) {
    return { state: 'expired', message: `Expired ${formatDuration(now - exp)} ago (${clock}).` }
  }
  if (exp === undefined) return { state: 'no-exp', message: 'No exp claim: the token never expires by itself.' }
  return { state: 'valid', message: `Within its validity: expires in ${formatDuration(exp - now)} (${clock}).` }
}
