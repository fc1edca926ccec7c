import { QueryClient, QueryObserver } from '@tanstack/react-query'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { api, isVerdict, resourceUrl } from './client'
import { applyEvent } from './events'
import { CALLS_KEPT, keys } from './queries'
import type { Envelope, Resource, ResourceCall, Status, Verdict } from './types'

const verdict = (allowed: boolean, status = allowed ? 200 : 403): Verdict => ({
  allowed, status, checks: [{ check: 'scope', result: allowed ? 'passed' : 'failed', expected: ['read_books'], actual: [] }],
})

function respond(status: number, body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }) {
  return new Response(status === 204 ? null : body, { status, headers })
}

afterEach(() => vi.unstubAllGlobals())

describe('resource API calls', () => {
  it('lists, reads, creates, updates and deletes resources under /admin/api/resources', async () => {
    const r: Resource = { name: 'books', audience: 'books-api', required_scopes: ['read_books'] }
    const f = vi.fn(async (..._a: unknown[]) => respond(200, JSON.stringify(r)))
    vi.stubGlobal('fetch', f)
    await api.resources()
    await api.resource('a b')
    await api.createResource(r)
    await api.updateResource('books', r)
    f.mockResolvedValueOnce(respond(204, ''))
    await api.deleteResource('books')
    const calls = f.mock.calls.map(([u, i]) => `${(i as RequestInit).method} ${u as string}`)
    expect(calls).toEqual([
      'GET /admin/api/resources',
      'GET /admin/api/resources/a%20b',
      'POST /admin/api/resources',
      'PUT /admin/api/resources/books',
      'DELETE /admin/api/resources/books',
    ])
    expect(JSON.parse((f.mock.calls[2][1] as RequestInit).body as string)).toEqual(r)
  })

  it('checks a token without calling the resource, and reads the calls and profiles', async () => {
    const f = vi.fn(async (..._a: unknown[]) => respond(200, JSON.stringify(verdict(false))))
    vi.stubGlobal('fetch', f)
    const v = await api.checkResource('books', { token: 't', method: 'GET', path: '/books' })
    expect(v.checks[0].check).toBe('scope')
    const [url, init] = f.mock.calls[0] as [string, RequestInit]
    expect(url).toBe('/admin/api/resources/books/check')
    expect(init.method).toBe('POST')
    expect(JSON.parse(init.body as string)).toEqual({ token: 't', method: 'GET', path: '/books' })
    f.mockResolvedValueOnce(respond(200, '[]'))
    await api.resourceCalls('books')
    expect(f.mock.calls[1][0]).toBe('/admin/api/resources/books/calls')
    f.mockResolvedValueOnce(respond(200, '[]'))
    await api.resourceProfiles()
    expect(f.mock.calls[2][0]).toBe('/admin/api/resource-profiles')
  })

  it('a check on an unknown resource is an ApiError with the server message', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => respond(404, JSON.stringify({ error: 'not_found', message: 'no resource `x`' }))))
    await expect(api.checkResource('x', { token: 't', method: 'GET', path: '/' })).rejects.toMatchObject({ status: 404, message: 'no resource `x`' })
  })

  it('calls the protected API with a Bearer token and reads a refusal’s verdict from its body', async () => {
    const body = { ...verdict(false, 401), error: 'invalid_token', error_description: 'aud' }
    const f = vi.fn(async (..._a: unknown[]) => respond(401, JSON.stringify(body), { 'Content-Type': 'application/json', 'WWW-Authenticate': 'Bearer realm="books", error="invalid_token"' }))
    vi.stubGlobal('fetch', f)
    const res = await api.callResource('books', { method: 'GET', path: 'books', token: ' abc ' })
    const [url, init] = f.mock.calls[0] as [string, RequestInit]
    expect(url).toBe('/resources/books/books')
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer abc')
    expect(res.status).toBe(401)
    expect(res.verdict?.allowed).toBe(false)
    expect(res.headers).toContainEqual(['www-authenticate', 'Bearer realm="books", error="invalid_token"'])
    expect(JSON.parse(res.body).error).toBe('invalid_token')
  })

  it('sends no Authorization header without a token, and a JSON body only where a method has one', async () => {
    const f = vi.fn(async (..._a: unknown[]) => respond(401, '{}'))
    vi.stubGlobal('fetch', f)
    const res = await api.callResource('books', { method: 'GET', path: '/', token: '', body: '{"a":1}' })
    const init = f.mock.calls[0][1] as RequestInit
    expect(init.headers).not.toHaveProperty('Authorization')
    expect(init.body).toBeUndefined()
    expect(res.verdict).toBeNull()
    await api.callResource('books', { method: 'POST', path: '/books/1', token: 't', body: '{"a":1}' })
    const post = f.mock.calls[1][1] as RequestInit
    expect(post.body).toBe('{"a":1}')
    expect((post.headers as Record<string, string>)['Content-Type']).toBe('application/json')
  })

  it('reads an accepted call’s verdict from the Latchkey-Verdict header, inline or by its link', async () => {
    const ok = verdict(true)
    vi.stubGlobal('fetch', vi.fn(async () => respond(200, '{"books":[]}', { 'Content-Type': 'application/json', 'Latchkey-Verdict': JSON.stringify(ok) })))
    expect((await api.callResource('books', { method: 'GET', path: '/', token: 't' })).verdict).toEqual(ok)

    const f = vi.fn(async (u: unknown) =>
      String(u).startsWith('/admin/api/verdicts/')
        ? respond(200, JSON.stringify(ok))
        : respond(200, '{"books":[]}', { 'Content-Type': 'application/json', 'Latchkey-Verdict': '</admin/api/verdicts/7>; rel="verdict"' }),
    )
    vi.stubGlobal('fetch', f)
    const res = await api.callResource('books', { method: 'GET', path: '/', token: 't' })
    expect(f.mock.calls[1][0]).toBe('/admin/api/verdicts/7')
    expect(res.verdict).toEqual(ok)
    expect(res.body).toBe('{"books":[]}')

    // Latchkey's form: the call's absolute URL under the issuer (which may name another host
    // than the page's), answering the call with its verdict. Asked on the page's own origin.
    const g = vi.fn(async (u: unknown) =>
      String(u).startsWith('/admin/api/resources/books/calls/')
        ? respond(200, JSON.stringify({ id: 9, resource: 'books', verdict: ok }))
        : respond(200, '{}', { 'Content-Type': 'application/json', 'Latchkey-Verdict': 'http://127.0.0.1:8000/admin/api/resources/books/calls/9' }),
    )
    vi.stubGlobal('fetch', g)
    expect((await api.callResource('books', { method: 'GET', path: '/', token: 't' })).verdict).toEqual(ok)
    expect(g.mock.calls[1][0]).toBe('/admin/api/resources/books/calls/9')
  })

  it('explains a network failure of the protected API', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => { throw new TypeError('Failed to fetch') }))
    await expect(api.callResource('books', { method: 'GET', path: '/', token: '' })).rejects.toMatchObject({ status: 0, code: 'network' })
  })

  it('builds resource URLs under the issuer path and recognises verdicts', () => {
    expect(resourceUrl('books', '/books/1', '/realms/dev')).toBe('/realms/dev/resources/books/books/1')
    expect(resourceUrl('a/b', '', '')).toBe('/resources/a%2Fb')
    expect(isVerdict(verdict(true))).toBe(true)
    expect(isVerdict({ error: 'invalid_token' })).toBe(false)
    expect(isVerdict(null)).toBe(false)
  })
})

let seq = 0
const env = (e: Omit<Envelope, 'id' | 'at'>): Envelope => ({ ...e, id: ++seq, at: Date.now() } as Envelope)
const call = (id: number, resource = 'books'): ResourceCall => ({
  id, at: Date.now(), resource, method: 'GET', path: '/books', status: 403, verdict: verdict(false), client_id: 'app', sub: 'alice',
})

describe('resource events', () => {
  let qc: QueryClient
  beforeEach(() => {
    qc = new QueryClient()
  })

  it('resource.called puts the call first in that resource’s list, once', () => {
    qc.setQueryData<ResourceCall[]>(keys.resourceCalls('books'), [call(1)])
    qc.setQueryData<ResourceCall[]>(keys.resourceCalls('films'), [])
    const e = env({ type: 'resource.called', data: call(2) })
    applyEvent(qc, e)
    applyEvent(qc, { ...e, id: ++seq })
    expect(qc.getQueryData<ResourceCall[]>(keys.resourceCalls('books'))!.map((c) => c.id)).toEqual([2, 1])
    expect(qc.getQueryData<ResourceCall[]>(keys.resourceCalls('films'))).toEqual([])
  })

  it('refetches a call list that was being fetched when a call arrived (its answer may predate it)', async () => {
    let answer: (l: ResourceCall[]) => void = () => {}
    let fetches = 0
    const queryFn = () => {
      fetches++
      return fetches === 1 ? new Promise<ResourceCall[]>((r) => { answer = r }) : Promise.resolve([call(7)])
    }
    // A mounted page watching the list: its first fetch is in flight when the call arrives.
    const off = new QueryObserver(qc, { queryKey: keys.resourceCalls('books'), queryFn }).subscribe(() => {})
    expect(qc.getQueryCache().find({ queryKey: keys.resourceCalls('books') })?.state.fetchStatus).toBe('fetching')
    applyEvent(qc, env({ type: 'resource.called', data: call(7) }))
    answer([])
    await vi.waitFor(() => expect(qc.getQueryData<ResourceCall[]>(keys.resourceCalls('books'))?.map((c) => c.id)).toEqual([7]))
    expect(fetches).toBe(2)
    off()
  })

  it('keeps a bounded list, and leaves an unloaded list for its first fetch', () => {
    qc.setQueryData<ResourceCall[]>(keys.resourceCalls('books'), Array.from({ length: CALLS_KEPT }, (_, i) => call(1000 + i)))
    applyEvent(qc, env({ type: 'resource.called', data: call(1) }))
    const l = qc.getQueryData<ResourceCall[]>(keys.resourceCalls('books'))!
    expect(l).toHaveLength(CALLS_KEPT)
    expect(l[0].id).toBe(1)
    applyEvent(qc, env({ type: 'resource.called', data: call(5, 'films') }))
    expect(qc.getQueryData(keys.resourceCalls('films'))).toBeUndefined()
  })

  it('resource.created, updated and deleted keep the list and the count current', () => {
    const status = {
      version: '0', issuer: 'http://x', uptime: 1, clock: { now: 0, offset: 0 }, active_kid: 'k', active_alg: 'RS256',
      counts: { clients: 0, users: 0, scopes: 0, resources: 0, tokens: {} }, admin_token_required: false,
    } satisfies Status
    qc.setQueryData(keys.status, status)
    qc.setQueryData<Resource[]>(keys.resources, [])
    applyEvent(qc, env({ type: 'resource.created', data: { name: 'books', required_scopes: ['read_books'], identifier: 'http://x/resources/books' } }))
    applyEvent(qc, env({ type: 'resource.updated', data: { name: 'books', required_scopes: ['read_books', 'x'] } }))
    const l = qc.getQueryData<Resource[]>(keys.resources)!
    expect(l).toHaveLength(1)
    expect(l[0].required_scopes).toEqual(['read_books', 'x'])
    // The read-only identifier survives an event that does not carry it.
    expect(l[0].identifier).toBe('http://x/resources/books')
    expect(qc.getQueryData<Status>(keys.status)!.counts.resources).toBe(1)
    applyEvent(qc, env({ type: 'resource.deleted', data: { name: 'books' } }))
    expect(qc.getQueryData<Resource[]>(keys.resources)).toEqual([])
    expect(qc.getQueryData<Status>(keys.status)!.counts.resources).toBe(0)
  })
})
