// Splitting and decoding compact JWS tokens (RFC 7515 §7.1) for display. Nothing here verifies
// anything: the server checks signatures (TokenDetail.signature).

export interface JwtParts {
  header: string
  payload: string
  signature: string
}

/** The three segments of a compact JWS, or null for anything else (an opaque token). */
export function splitJwt(token: string): JwtParts | null {
  const t = token.trim()
  const parts = t.split('.')
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*={0,2}$/.test(p)) || !parts[0] || !parts[1]) {
    return null
  }
  return { header: parts[0], payload: parts[1], signature: parts[2] }
}

/** Decodes one base64url segment to text (UTF-8), or null when it is not base64url. */
export function decodeSegment(segment: string): string | null {
  try {
    const b64 = segment.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '')
    const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4)
    const bin = atob(padded)
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0))
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return null
  }
}

/** Decodes a JSON segment, or null when it is not base64url JSON object. */
export function decodeJsonSegment(segment: string): Record<string, unknown> | null {
  const text = decodeSegment(segment)
  if (text === null) return null
  try {
    const v: unknown = JSON.parse(text)
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

export interface DecodedJwt {
  parts: JwtParts
  header: Record<string, unknown> | null
  payload: Record<string, unknown> | null
}

export function decodeJwt(token: string): DecodedJwt | null {
  const parts = splitJwt(token)
  if (!parts) return null
  return { parts, header: decodeJsonSegment(parts.header), payload: decodeJsonSegment(parts.payload) }
}
