import { describe, expect, it } from 'vitest'
import { callUrl, curlForCall, samplePath, shq } from './ResourceCheck'

describe('curl for a resource call', () => {
  it('writes a GET with a placeholder token the shell expands', () => {
    expect(curlForCall('http://localhost:8000/resources/books/books', 'GET', '$ACCESS_TOKEN')).toBe(
      'curl -i http://localhost:8000/resources/books/books \\\n  -H "Authorization: Bearer $ACCESS_TOKEN"',
    )
  })

  it('quotes a real token and a body, and names the method', () => {
    const c = curlForCall('http://localhost:8000/resources/books/books/1', 'POST', 'eyJ.a.b', `{"t":"it's"}`)
    expect(c).toContain('curl -i -X POST http://localhost:8000/resources/books/books/1')
    expect(c).toContain(`-H 'Authorization: Bearer eyJ.a.b'`)
    expect(c).toContain(`--data '{"t":"it'\\''s"}'`)
    expect(curlForCall('http://x/resources/a', 'DELETE', '')).toBe('curl -i -X DELETE http://x/resources/a')
  })

  it('quotes only what needs it', () => {
    expect(shq('http://a/b?c=1')).toBe(`'http://a/b?c=1'`)
    expect(shq('plain/path')).toBe('plain/path')
  })

  it('builds the URL from the identifier, and a sample path from a rule', () => {
    expect(callUrl({ name: 'books', identifier: 'http://localhost:8000/realms/dev/resources/books' }, 'books', undefined)).toBe(
      'http://localhost:8000/realms/dev/resources/books/books',
    )
    expect(callUrl({ name: 'books' }, '/x', 'http://localhost:8000')).toBe('http://localhost:8000/resources/books/x')
    expect(samplePath('/books/*')).toBe('/books/1')
    expect(samplePath('')).toBe('/')
  })
})
