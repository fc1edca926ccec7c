import { describe, expect, it } from 'vitest'
import { formCurl, shq, withSecretLine } from './curl'

describe('curl', () => {
  it('quotes for the shell and keeps the secret in a required variable', () => {
    expect(shq("it's")).toBe(`'it'\\''s'`)
    const auth = { method: 'client_secret_basic' as const, clientId: 'books', secret: 's3cret' }
    const c = formCurl('http://localhost:8000/token', [['grant_type', 'client_credentials'], ['scope', 'a b']], auth)
    expect(c).toContain('curl -s ')
    expect(c).toContain('-u "books:${CLIENT_SECRET:?set CLIENT_SECRET first}"')
    expect(c).toContain(`--data-urlencode 'scope=a b'`)
    expect(c).not.toContain('s3cret')
    expect(withSecretLine(c, auth, true).split('\n')[0]).toBe(`CLIENT_SECRET='s3cret'`)
    expect(withSecretLine(c, auth, false)).toBe(c)
  })

  it('uses the form-urlencoded secret for Basic when encoding changes it, and post/none send the id', () => {
    const auth = { method: 'client_secret_basic' as const, clientId: 'a', secret: 'p@ss word' }
    const c = withSecretLine(formCurl('http://x/token', [], auth), auth, true)
    expect(c).toContain(`CLIENT_SECRET_FORM_URLENCODED='p%40ss+word'`)
    const post = formCurl('http://x/token', [], { method: 'client_secret_post', clientId: 'a', secret: 'b' })
    expect(post).toContain(`--data-urlencode 'client_id=a'`)
    expect(post).toContain('client_secret=${CLIENT_SECRET:?set CLIENT_SECRET first}')
    const pub = formCurl('http://x/token', [], { method: 'none', clientId: 'spa' })
    expect(pub).not.toContain('CLIENT_SECRET')
  })
})
