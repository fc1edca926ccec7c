// curl commands that work when pasted: `-s` (no progress meter in front of the JSON), every
// value single-quoted for the shell, and a client secret as `${CLIENT_SECRET:?…}`, which stops
// the shell when the variable is unset or empty instead of sending an empty secret. The copy
// "with the secret" sets the variable on the line before.

import type { AuthMethod } from '../api/types'

/** A single-quoted shell word. */
export const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

/** `${NAME:?set NAME first}` (POSIX: fails when unset or empty). */
export const requiredVar = (name: string): string => `\${${name}:?set ${name} first}`

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before the Basic header joins them. */
export const formEncode = (s: string): string => new URLSearchParams({ x: s }).toString().slice(2)

export interface CurlAuth {
  method: AuthMethod
  clientId: string
  /** The client's real secret, when known. */
  secret?: string
}

/** Which variable stands for the secret (the form-urlencoded one when encoding changes it). */
export function secretVariable(auth: CurlAuth): string | null {
  if (auth.method !== 'client_secret_basic' && auth.method !== 'client_secret_post') return null
  if (auth.method === 'client_secret_basic' && auth.secret !== undefined && formEncode(auth.secret) !== auth.secret) return 'CLIENT_SECRET_FORM_URLENCODED'
  return 'CLIENT_SECRET'
}

/** The value to assign to `secretVariable(auth)`. */
export function secretValue(auth: CurlAuth): string | undefined {
  if (auth.secret === undefined) return undefined
  return secretVariable(auth) === 'CLIENT_SECRET_FORM_URLENCODED' ? formEncode(auth.secret) : auth.secret
}

/** `NAME='value'` lines setting the variables a command uses, for the ones known. */
export function assignments(vars: Record<string, string | undefined>): string {
  return Object.entries(vars)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${shq(v as string)}`)
    .join('\n')
}

/** A form POST to `endpoint` (RFC 6749 §3.2) with the client authenticated as `auth`. */
export function formCurl(endpoint: string, form: [string, string][], auth?: CurlAuth): string {
  const lines = [`curl -s ${shq(endpoint)}`]
  const v = auth ? secretVariable(auth) : null
  if (auth && v && auth.method === 'client_secret_basic') {
    lines.push(`  -u "${formEncode(auth.clientId).replace(/(["\\$`])/g, '\\$1')}:${requiredVar(v)}"`)
  } else if (auth && (auth.method === 'none' || auth.method === 'client_secret_post')) {
    if (!form.some(([k]) => k === 'client_id')) lines.push(`  --data-urlencode ${shq(`client_id=${auth.clientId}`)}`)
    if (v) lines.push(`  --data-urlencode "client_secret=${requiredVar(v)}"`)
  }
  for (const [k, val] of form) lines.push(`  --data-urlencode ${shq(`${k}=${val}`)}`)
  return lines.join(' \\\n')
}

/** The command, preceded by the lines that set its secret when `withSecret` and it is known. */
export function withSecretLine(command: string, auth: CurlAuth | undefined, withSecret: boolean): string {
  if (!auth || !withSecret) return command
  const v = secretVariable(auth)
  const val = secretValue(auth)
  if (!v || val === undefined) return command
  return `${v}=${shq(val)}\n${command}`
}
