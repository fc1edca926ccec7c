// JWT client authentication on a client's page (RFC 7523 §2.2, OIDC Core §9): the client's
// public keys for private_key_jwt (pasted, generated in the browser, or a jwks_uri), the
// signing algorithm, and a ready-to-run example assertion.
//
// Key pairs are generated with WebCrypto through `jose`; the private key never leaves the
// browser: it is shown once for the developer's app and is not sent to Latchkey.

import { KeyRound, PenLine } from 'lucide-react'
import { useState } from 'react'
import type { UseFormReturn } from 'react-hook-form'
import { useDiscovery } from '../api/queries'
import type { AuthMethod, Client } from '../api/types'
import { Code } from './Code'
import { CopyButton, Field, Panel } from './ui'

/** The asymmetric algorithms of private_key_jwt (RFC 7518 §3, RFC 8037). */
export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA'] as const
/** The HMAC algorithms of client_secret_jwt (RFC 7518 §3.2). */
export const HMAC_ALGS = ['HS256', 'HS384', 'HS512'] as const
/** Algorithms the browser generates keys for. */
const GENERATED = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

export function isJwtMethod(m: AuthMethod | undefined): m is 'private_key_jwt' | 'client_secret_jwt' {
  return m === 'private_key_jwt' || m === 'client_secret_jwt'
}

/** The form fields this component edits (a subset of the client form). */
export interface KeyFields {
  token_endpoint_auth_method: AuthMethod
  key_source: 'jwks' | 'jwks_uri'
  /** A JWK Set or a single public JWK, as JSON text. */
  jwks: string
  jwks_uri: string
  token_endpoint_auth_signing_alg: string
}

/**
 * Parses pasted key text: a JWK Set (`{"keys": [...]}`), a single JWK, or an array of JWKs.
 * Returns the set, or why not. Private keys are refused (the private part stays with the app).
 */
export function parseJwks(text: string): { keys: Record<string, unknown>[] } | string {
  const t = text.trim()
  if (!t) return 'Paste the public key (a JWK or a JWK Set), or generate a key pair'
  let v: unknown
  try {
    v = JSON.parse(t)
  } catch {
    return 'Not JSON: paste a JWK ({"kty": ...}) or a JWK Set ({"keys": [...]})'
  }
  const keys = Array.isArray(v) ? v : v && typeof v === 'object' && 'keys' in v ? (v as { keys: unknown }).keys : [v]
  if (!Array.isArray(keys) || keys.length === 0) return 'The JWK Set has no keys'
  for (const [i, k] of keys.entries()) {
    if (!k || typeof k !== 'object' || !('kty' in k)) return `Key ${i + 1} is not a JWK (no "kty")`
    if ('d' in k || 'k' in k) return `Key ${i + 1} holds private key material ("d" or "k"): paste the public key only`
  }
  return { keys: keys as Record<string, unknown>[] }
}

/** A freshly generated key pair: the public JWK (with kid) and the private key as PKCS#8 PEM. */
export interface GeneratedKey {
  alg: string
  kid: string
  publicJwk: Record<string, unknown>
  privatePem: string
  privateKey: CryptoKey
}

export async function generateClientKey(alg: string): Promise<GeneratedKey> {
  const jose = await import('jose')
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true, modulusLength: 2048 })
  const jwk = await jose.exportJWK(publicKey)
  const kid = (await jose.calculateJwkThumbprint(jwk)).slice(0, 16)
  const publicJwk = { ...jwk, kid, alg, use: 'sig' }
  const privatePem = await jose.exportPKCS8(privateKey)
  return { alg, kid, publicJwk, privatePem, privateKey: privateKey as CryptoKey }
}

/** A client assertion for `clientId` to `aud`, valid `seconds`, signed in the browser. */
export async function signAssertion(
  clientId: string, aud: string, alg: string, key: CryptoKey | Uint8Array, kid?: string, seconds = 300,
): Promise<string> {
  const jose = await import('jose')
  const header: { alg: string; kid?: string } = { alg }
  if (kid) header.kid = kid
  return new jose.SignJWT({})
    .setProtectedHeader(header)
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(aud)
    .setIssuedAt()
    .setExpirationTime(`${seconds}s`)
    .setJti(crypto.randomUUID())
    .sign(key)
}

/** The Authentication panel's part for JWT methods: keys and algorithm. */
export function ClientKeysFields({ form, clientId }: { form: UseFormReturn<KeyFields & Record<string, unknown>>; clientId: string }) {
  const { register, watch, setValue, formState: { errors } } = form as unknown as UseFormReturn<KeyFields>
  const method = watch('token_endpoint_auth_method')
  const source = watch('key_source')
  const [genAlg, setGenAlg] = useState<string>('ES256')
  const [generated, setGenerated] = useState<GeneratedKey | null>(null)
  const [busy, setBusy] = useState(false)
  const [genError, setGenError] = useState<string | null>(null)
  const algs = method === 'client_secret_jwt' ? HMAC_ALGS : ASYMMETRIC_ALGS

  const generate = async () => {
    setBusy(true)
    setGenError(null)
    try {
      const k = await generateClientKey(genAlg)
      setGenerated(k)
      setValue('key_source', 'jwks', { shouldDirty: true })
      setValue('jwks', JSON.stringify({ keys: [k.publicJwk] }, null, 2), { shouldDirty: true, shouldValidate: true })
      setValue('token_endpoint_auth_signing_alg', genAlg, { shouldDirty: true })
    } catch (e) {
      setGenError(`This browser could not generate a ${genAlg} key: ${e instanceof Error ? e.message : String(e)}`)
    } finally {
      setBusy(false)
    }
  }

  return (
    <div className="stack">
      <Field
        label="Signing algorithm"
        htmlFor="token_endpoint_auth_signing_alg"
        error={errors.token_endpoint_auth_signing_alg?.message}
        help={method === 'client_secret_jwt'
          ? 'The assertion is an HMAC made with the client secret. Empty: any of HS256, HS384, HS512.'
          : 'token_endpoint_auth_signing_alg: the one alg accepted. Empty: any asymmetric algorithm.'}
      >
        <select id="token_endpoint_auth_signing_alg" className="input" {...register('token_endpoint_auth_signing_alg')}>
          <option value="">Any</option>
          {algs.map((a) => <option key={a} value={a}>{a}</option>)}
        </select>
      </Field>
      {method === 'private_key_jwt' && (
        <>
          <div className="options" role="radiogroup" aria-label="Where the client's public keys come from">
            <label className="option-card">
              <input type="radio" value="jwks" {...register('key_source')} />
              <span><span className="t">Keys here</span><br /><span className="d">Paste the public JWK or JWK Set, or generate a key pair.</span></span>
            </label>
            <label className="option-card">
              <input type="radio" value="jwks_uri" {...register('key_source')} />
              <span><span className="t">jwks_uri</span><br /><span className="d">Your app publishes its keys; Latchkey fetches them (loopback is fine).</span></span>
            </label>
          </div>
          {source === 'jwks' ? (
            <>
              <Field
                label="Public keys (JWK Set)"
                htmlFor="jwks"
                error={errors.jwks?.message}
                help="A JWK, a JWK Set or an array of JWKs; public keys only. RSA, EC P-256/P-384 or Ed25519."
              >
                <textarea
                  id="jwks"
                  className="input mono"
                  rows={6}
                  spellCheck={false}
                  placeholder={'{"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "x": "...", "y": "..."}]}'}
                  aria-invalid={!!errors.jwks}
                  {...register('jwks', {
                    validate: (v) => {
                      if (form.getValues('token_endpoint_auth_method') !== 'private_key_jwt' || form.getValues('key_source') !== 'jwks') return true
                      const r = parseJwks(v)
                      return typeof r === 'string' ? r : true
                    },
                  })}
                />
              </Field>
              <div className="row gen-row">
                <select className="input" aria-label="Algorithm of the generated key" value={genAlg} onChange={(e) => setGenAlg(e.target.value)} style={{ width: 'auto' }}>
                  {GENERATED.map((a) => <option key={a} value={a}>{a}</option>)}
                </select>
                <button type="button" className="btn" onClick={generate} disabled={busy}>
                  <KeyRound size={14} /> {busy ? 'Generating…' : 'Generate a key pair'}
                </button>
                <span className="muted small">In this browser (WebCrypto); the private key is not sent to Latchkey.</span>
              </div>
              {genError && <div className="error" role="alert">{genError}</div>}
              {generated && <PrivateKeyOnce k={generated} clientId={clientId} />}
            </>
          ) : (
            <Field label="jwks_uri" htmlFor="jwks_uri" error={errors.jwks_uri?.message} help="Fetched within 5 s, kept 5 minutes, fetched again at once for an unknown kid.">
              <input
                id="jwks_uri"
                className="input mono"
                placeholder="e.g. http://127.0.0.1:4000/.well-known/jwks.json"
                aria-invalid={!!errors.jwks_uri}
                {...register('jwks_uri', {
                  validate: (v) => {
                    if (form.getValues('token_endpoint_auth_method') !== 'private_key_jwt' || form.getValues('key_source') !== 'jwks_uri') return true
                    return /^https?:\/\/[^\s]+$/.test(v.trim()) ? true : 'An http:// or https:// URL'
                  },
                })}
              />
            </Field>
          )}
        </>
      )}
    </div>
  )
}

/** The private key of a key pair just generated: shown once, with a copy button. */
function PrivateKeyOnce({ k, clientId }: { k: GeneratedKey; clientId: string }) {
  const discovery = useDiscovery()
  const [assertion, setAssertion] = useState<string | null>(null)
  const aud = discovery.data?.token_endpoint
  return (
    <div className="once" role="region" aria-label="Private key">
      <div className="once-head">
        <strong>Private key ({k.alg}, kid <code>{k.kid}</code>)</strong>
        <CopyButton text={k.privatePem} label="Copy private key" small />
      </div>
      <p className="small">
        Shown once: Latchkey keeps only the public key. Save it for your app now (e.g. as <code>{clientId || 'client'}.key.pem</code>),
        then save the client.
      </p>
      <Code code={k.privatePem} language="text" copy={false} maxHeight={140} />
      {aud && (
        <div className="row" style={{ gap: 8, marginTop: 8 }}>
          <button
            type="button"
            className="btn small"
            onClick={async () => setAssertion(await signAssertion(clientId, aud, k.alg, k.privateKey, k.kid))}
            disabled={!clientId}
          >
            <PenLine size={13} /> Sign an assertion with it
          </button>
          <span className="muted small">Valid 5 minutes: paste it into the curl below once the client is saved.</span>
        </div>
      )}
      {assertion && <Code code={assertion} language="text" wrap />}
    </div>
  )
}

/** A ready-to-run client-credentials request with a client assertion: a script and curl. */
export function AssertionExample({ client }: { client: Client }) {
  const discovery = useDiscovery()
  const [made, setMade] = useState<string | null>(null)
  const token = discovery.data?.token_endpoint
  const method = client.token_endpoint_auth_method
  if (!token || !isJwtMethod(method)) return null
  const hs = method === 'client_secret_jwt'
  const alg = client.token_endpoint_auth_signing_alg ?? (hs ? 'HS256' : firstAlg(client) ?? 'ES256')
  const kid = client.jwks?.keys?.[0]?.kid as string | undefined
  const scopes = client.scopes.filter((s) => s !== 'openid' && s !== 'offline_access').join(' ')
  const key = hs ? 'os.environ["CLIENT_SECRET"]' : `open("${client.client_id}.key.pem").read()`
  const python = [
    '# pip install "pyjwt[crypto]"',
    'import os, time, uuid, jwt',
    '',
    'now = int(time.time())',
    'claims = {',
    `    "iss": "${client.client_id}", "sub": "${client.client_id}",`,
    `    "aud": "${token}",`,
    '    "iat": now, "exp": now + 60, "jti": str(uuid.uuid4()),',
    '}',
    'assertion = jwt.encode(',
    `    claims, ${key},`,
    `    algorithm="${alg}"${!hs && kid ? `, headers={"kid": "${kid}"}` : ''})`,
    'print(assertion)',
  ].join('\n')
  const curl = [
    `curl -s "${token}" \\`,
    '  -d grant_type=client_credentials \\',
    ...(scopes ? [`  --data-urlencode "scope=${scopes}" \\`] : []),
    `  -d client_assertion_type=${CLIENT_ASSERTION_TYPE} \\`,
    `  --data-urlencode "client_assertion=${made ?? '${CLIENT_ASSERTION:?set CLIENT_ASSERTION first}'}"`,
  ].join('\n')
  const run = hs
    ? `CLIENT_SECRET='${client.client_secret ?? ''}' CLIENT_ASSERTION=$(python3 assertion.py)`
    : 'CLIENT_ASSERTION=$(python3 assertion.py)'
  const signHere = async () => {
    if (!client.client_secret) return
    setMade(await signAssertion(client.client_id, token, alg, new TextEncoder().encode(client.client_secret)))
  }
  return (
    <Panel title="Example assertion" hint={`${method}: RFC 7523 §2.2`} id="assertion-example">
      <div className="qs">
        <div className="stack-sm">
          <h3>assertion.py</h3>
          <Code code={python} language="text" />
          <p className="muted small">
            {hs
              ? 'MACed with the client secret.'
              : <>Signed with the client’s private key{kid ? <> (kid <code>{kid}</code>)</> : null}; Latchkey holds only the public key.</>}
            {' '}<code>iat</code>/<code>exp</code> are checked against real time, even while the virtual clock is moved.
          </p>
        </div>
        <div className="stack-sm">
          <h3>Get a token</h3>
          <Code code={`${run}\n${curl}`} language="bash" wrap />
          {hs && (
            <div className="row" style={{ gap: 8 }}>
              <button type="button" className="btn small" onClick={signHere}><PenLine size={13} /> Sign one here</button>
              <span className="muted small">{made ? 'The curl now carries an assertion valid 5 minutes, single-use.' : 'Puts a fresh assertion (valid 5 minutes) into the curl.'}</span>
            </div>
          )}
        </div>
      </div>
    </Panel>
  )
}

function firstAlg(c: Client): string | undefined {
  const k = c.jwks?.keys?.[0]
  if (!k) return undefined
  if (typeof k.alg === 'string') return k.alg
  if (k.kty === 'EC') return k.crv === 'P-384' ? 'ES384' : 'ES256'
  if (k.kty === 'OKP') return 'EdDSA'
  return 'RS256'
}
