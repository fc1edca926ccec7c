import { render, screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import type { ProxyRecord, Verdict } from '../api/types'
import { CallDetail, proxyRowText } from './Proxy'

const accepted: Verdict = {
  allowed: true,
  status: 200,
  resource: 'books',
  method: 'GET',
  path: '/v1/books',
  checks: [
    { check: 'signature', result: 'passed', explanation: 'Signed by a current key.' },
    { check: 'aud', result: 'passed', expected: ['books-api'], actual: ['books-api'], explanation: 'The token is for this API.' },
  ],
}

const refusedByApi: ProxyRecord = {
  mode: 'observe',
  upstream_url: 'http://127.0.0.1:3000/v1/books',
  forwarded: true,
  upstream_status: 401,
  upstream_challenge: 'Bearer error="invalid_token"',
  error: null,
  explanation: 'The upstream answered 401 (WWW-Authenticate: Bearer error="invalid_token"); Latchkey finds nothing wrong with the token: compare the API\'s audience, issuer and algorithms.',
}

const silent: ProxyRecord = {
  mode: 'enforce',
  upstream_url: 'http://127.0.0.1:3000/v1/books',
  forwarded: true,
  upstream_status: null,
  upstream_challenge: null,
  error: 'the upstream http://127.0.0.1:3000/v1/books sent no response headers within 60 s (upstream_timeout)',
  explanation: null,
}

describe('a call through the explaining proxy', () => {
  it('an upstream 401 with a token Latchkey accepts reads as the API refusing it, never as a plain "Accepted"', () => {
    const { container } = render(<CallDetail verdict={accepted} proxy={refusedByApi} status={401} />)
    const up = screen.getByTestId('upstream')
    // The upstream block comes first, before the verdict.
    expect(container.firstElementChild!.firstElementChild).toBe(up)
    expect(screen.getByTestId('upstream-headline').textContent).toBe('Your API refused (401) a token Latchkey accepts.')
    expect(screen.getByTestId('upstream-url').textContent).toBe('http://127.0.0.1:3000/v1/books')
    expect(screen.getByTestId('upstream-status').textContent).toBe('401')
    expect(screen.getByTestId('upstream-challenge').textContent).toBe('Bearer error="invalid_token"')
    expect(screen.getByTestId('upstream-explanation').textContent).toContain('The upstream answered 401')
    expect(screen.getByRole('heading', { name: "Latchkey's verdict on the token" })).toBeTruthy()
    const summary = screen.getByTestId('verdict-summary')
    expect(summary.textContent).toContain('Latchkey accepts the token')
    expect(summary.textContent).not.toMatch(/Accepted/)
    expect(summary.textContent).not.toMatch(/would accept/)
    expect(within(summary).getByText(/yet your API answered 401/)).toBeTruthy()
    expect(proxyRowText(refusedByApi, accepted, 401)).toBe('upstream 401 · your API refused a token Latchkey accepts')
  })

  it('a 504 (no answer from the API) shows the error, not "Accepted · 200"', () => {
    render(<CallDetail verdict={accepted} proxy={silent} status={504} />)
    expect(screen.getByTestId('upstream-headline').textContent).toBe('No answer from your API, so the client got 504: it sent no response headers within upstream_timeout.')
    expect(screen.getByTestId('upstream-status').textContent).toBe('no answer (client got 504)')
    expect(screen.getByTestId('upstream-error').textContent).toContain('upstream_timeout')
    expect(screen.queryByTestId('upstream-challenge')).toBeNull()
    const summary = screen.getByTestId('verdict-summary')
    expect(summary.textContent).not.toMatch(/Accepted · 200/)
    expect(summary.textContent).not.toMatch(/would accept/)
    expect(proxyRowText(silent, accepted, 504)).toMatch(/^no answer \(504\) · the upstream/)
  })

  it('an enforce refusal is marked not forwarded', () => {
    const refused: Verdict = { ...accepted, allowed: false, status: 401, decided_by: 'aud', checks: [{ check: 'aud', result: 'failed', explanation: 'aud other-app names none of the audiences.' }] }
    const notForwarded: ProxyRecord = { ...silent, forwarded: false, error: null }
    render(<CallDetail verdict={refused} proxy={notForwarded} status={401} />)
    expect(screen.getByTestId('upstream-headline').textContent).toMatch(/^Not forwarded: Latchkey refused the token \(enforce mode\)/)
    expect(screen.getByTestId('upstream-status').textContent).toBe('not forwarded')
    expect(proxyRowText(notForwarded, refused, 401)).toBe('not forwarded · Audience: aud other-app names none of the audiences.')
  })

  it('without a proxy record, the verdict alone as before', () => {
    render(<CallDetail verdict={accepted} status={200} />)
    expect(screen.queryByTestId('upstream')).toBeNull()
    expect(screen.getByTestId('verdict-summary').textContent).toContain('Accepted · 200')
  })
})
