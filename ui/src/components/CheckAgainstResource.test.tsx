import { QueryClient, QueryClientProvider } from '@tanstack/react-query'
import { render, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { MemoryRouter } from 'react-router'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Resource, Verdict } from '../api/types'
import { CheckAgainstResource } from './ResourceCheck'
import { ToastProvider } from './toast'

const books: Resource = { name: 'books', audience: 'books-api', required_scopes: ['read_books'], rules: [{ method: 'POST', path: '/books/*', scopes: ['add_books'] }] }
const verdict: Verdict = {
  allowed: false, status: 403, error: 'insufficient_scope', decided_by: 'scope',
  checks: [
    { check: 'aud', result: 'passed', expected: ['books-api'], actual: 'books-api', explanation: 'aud contains books-api' },
    { check: 'scope', result: 'failed', expected: ['read_books', 'add_books'], actual: { claim: 'scope', scopes: ['read_books'] }, explanation: 'missing add_books', fix: 'request the scope add_books' },
  ],
}

function setup(resources: Resource[]) {
  const calls: { url: string; body?: unknown }[] = []
  vi.stubGlobal('fetch', vi.fn(async (url: string, init?: RequestInit) => {
    calls.push({ url, body: init?.body ? JSON.parse(init.body as string) : undefined })
    const json = url.endsWith('/check') ? verdict : resources
    return new Response(JSON.stringify(json), { status: 200, headers: { 'Content-Type': 'application/json' } })
  }))
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } })
  render(
    <QueryClientProvider client={qc}>
      <MemoryRouter>
        <ToastProvider>
          <CheckAgainstResource token="eyJ.tok.en" />
        </ToastProvider>
      </MemoryRouter>
    </QueryClientProvider>,
  )
  return calls
}

afterEach(() => vi.unstubAllGlobals())

describe('check against a resource', () => {
  it('checks the token for a rule\'s method and path, and shows the deciding row and its fix', async () => {
    const calls = setup([books])
    const user = userEvent.setup()
    await user.click(await screen.findByRole('button', { name: 'POST /books/*' }))
    expect((screen.getByLabelText('Method') as HTMLSelectElement).value).toBe('POST')
    expect((screen.getByLabelText('Path') as HTMLInputElement).value).toBe('/books/1')
    await user.click(screen.getByRole('button', { name: 'Check' }))
    await screen.findByTestId('check-verdict')
    expect(calls.at(-1)).toEqual({ url: '/admin/api/resources/books/check', body: { token: 'eyJ.tok.en', method: 'POST', path: '/books/1' } })
    const first = document.querySelector('tr.first-failure')!
    expect(first.getAttribute('data-check')).toBe('scope')
    expect(first.textContent).toContain('request the scope add_books')
    expect(screen.getByTestId('verdict-summary').textContent).toContain('Refused · 403 insufficient_scope')
  })

  it('offers to add a resource when there is none', async () => {
    setup([])
    await waitFor(() => expect(screen.getByRole('link', { name: 'Add one' }).getAttribute('href')).toBe('/resources/new?example=books'))
    expect(screen.queryByRole('button', { name: 'Check' })).toBeNull()
  })
})
