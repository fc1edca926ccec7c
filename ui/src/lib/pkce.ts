// PKCE (RFC 7636) and the random values an authorization request needs.

const b64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

/** `n` random bytes, base64url (32 bytes → 43 characters: a valid code_verifier, §4.1). */
export function randomToken(n = 32): string {
  const b = new Uint8Array(n)
  crypto.getRandomValues(b)
  return b64url(b)
}

/** S256: BASE64URL(SHA-256(ASCII(code_verifier))) (§4.2). Needs a secure context (localhost is one). */
export async function s256(verifier: string): Promise<string> {
  if (!crypto.subtle) throw new Error('PKCE S256 needs a secure context: open the UI on localhost or 127.0.0.1, or over https.')
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return b64url(new Uint8Array(d))
}
