import { ApiError } from '../api/client'

export interface MappedError {
  field: string
  message: string
}

/**
 * Maps a validation error's field paths (`redirect_uris[0]`, `claims.email`) to form fields:
 * the first path segment, with the item number in the message. Returns the issues that match
 * `known` fields and the rest (to show above the form).
 */
export function mapFieldErrors(e: unknown, known: readonly string[]): { fields: MappedError[]; rest: string[] } {
  const fields: MappedError[] = []
  const rest: string[] = []
  if (!(e instanceof ApiError)) return { fields, rest: [e instanceof Error ? e.message : String(e)] }
  if (e.fields.length === 0) return { fields, rest: [e.message] }
  for (const f of e.fields) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?/.exec(f.field)
    const base = m?.[1] ?? f.field
    if (known.includes(base)) {
      const idx = m?.[2]
      const message = idx !== undefined ? `Item ${Number(idx) + 1}: ${f.message}` : f.message
      const prev = fields.find((x) => x.field === base)
      if (prev) prev.message += `; ${message}`
      else fields.push({ field: base, message })
    } else {
      rest.push(`${f.field}: ${f.message}`)
    }
  }
  return { fields, rest }
}

/** Whether `s` is an absolute URI without a fragment (RFC 6749 §3.1.2). */
export function absoluteUriProblem(s: string): string | null {
  const v = s.trim()
  if (!v) return 'is empty'
  if (!/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(v)) return `"${v}" is not an absolute URI (start with http:// or https://)`
  try {
    new URL(v)
  } catch {
    return `"${v}" is not a valid URI`
  }
  if (v.includes('#')) return `"${v}" has a fragment (#…), which is not allowed here (redirect URIs, RFC 6749 §3.1.2; resources, RFC 8707 §2)`
  return null
}

/** Whether a create failed because the name or id is taken (409 `conflict`). */
export function isConflict(e: unknown): boolean {
  return e instanceof ApiError && e.status === 409
}
