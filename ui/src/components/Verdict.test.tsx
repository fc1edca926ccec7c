import { render, screen, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import type { Verdict } from '../api/types'
import { challengeError, diffStrings, firstFailure, VerdictSummary, VerdictTable, VerdictView, verdictLine } from './Verdict'

const refused: Verdict = {
  allowed: false,
  status: 401,
  resource: 'books',
  method: 'GET',
  path: '/books',
  challenge: 'Bearer realm="books", error="invalid_token", error_description="aud mismatch"',
  checks: [
    { check: 'format', result: 'passed', expected: 'JWS', actual: 'JWS', explanation: 'A signed JWT.', fix: '' },
    { check: 'iss', result: 'passed', expected: 'http://localhost:8000', actual: 'http://localhost:8000', explanation: 'Same issuer.' },
    { check: 'aud', result: 'failed', expected: ['books-api', 'http://localhost:8000/resources/books'], actual: ['web-app'], explanation: 'The token is for `web-app`, not this API.', fix: 'Add `books-api` to the client\'s audiences.' },
    { check: 'exp', result: 'failed', expected: 'after now', actual: 'expired', explanation: 'Expired 3 min ago.', fix: 'Get a new token.' },
    { check: 'scope', result: 'skipped', explanation: 'Not checked: an earlier check failed.' },
  ],
}

describe('verdict rendering', () => {
  it('shows one row per check, in order, with a result badge each', () => {
    const { container } = render(<VerdictTable verdict={refused} />)
    const rows = [...container.querySelectorAll('tbody tr')]
    expect(rows.map((r) => r.getAttribute('data-check'))).toEqual(['format', 'iss', 'aud', 'exp', 'scope'])
    expect(rows.map((r) => r.querySelector('[data-result]')?.textContent)).toEqual(['passed', 'passed', 'failed', 'failed', 'skipped'])
  })

  it('highlights the first failing row only, and says it decided the answer', () => {
    const { container } = render(<VerdictTable verdict={refused} />)
    const first = container.querySelectorAll('tr.first-failure')
    expect(first).toHaveLength(1)
    expect(first[0].getAttribute('data-check')).toBe('aud')
    expect(first[0].getAttribute('aria-current')).toBe('true')
    expect(within(first[0] as HTMLElement).getByText('This check decided the answer.')).toBeTruthy()
    expect(container.querySelector('tr[data-check="exp"]')!.classList.contains('first-failure')).toBe(false)
  })

  it('mutes skipped rows, and shows the fix for failures but not for passes', () => {
    const { container } = render(<VerdictTable verdict={refused} />)
    expect(container.querySelector('tr[data-check="scope"]')!.classList.contains('skipped')).toBe(true)
    const aud = container.querySelector('tr[data-check="aud"]') as HTMLElement
    expect(within(aud).getByTestId('fix').textContent).toContain("Add books-api to the client's audiences.")
    expect(within(aud).getByTestId('fix').querySelector('code')?.textContent).toBe('books-api')
    const format = container.querySelector('tr[data-check="format"]') as HTMLElement
    expect(within(format).queryByTestId('fix')).toBeNull()
    // Lists are shown as their values, one per line, not as JSON.
    const expected = aud.querySelectorAll('td.cmp')[0]
    expect([...expected.querySelectorAll('.vv.list > span')].map((x) => x.textContent)).toEqual(['books-api', 'http://localhost:8000/resources/books'])
    expect(aud.querySelectorAll('td.cmp')[1].textContent).toBe('web-app')
  })

  it('marks where two compared strings differ (a trailing slash, a host)', () => {
    const v: Verdict = {
      allowed: false, status: 401,
      checks: [{ check: 'iss', result: 'failed', expected: 'http://localhost:8000', actual: 'http://localhost:8000/' }],
    }
    const { container } = render(<VerdictTable verdict={v} />)
    const [exp, act] = container.querySelectorAll('td.cmp')
    expect(act.querySelector('mark.diff')?.textContent).toBe('/')
    expect(exp.querySelector('mark.diff.gap')).not.toBeNull()
    expect(diffStrings('http://localhost:8000', 'http://127.0.0.1:8000')).toEqual({ prefix: 'http://', a: 'localhost', b: '127.0.0.1', suffix: ':8000' })
  })

  it('summarises a refusal with the status, the RFC 6750 code and the deciding check', () => {
    render(<VerdictSummary verdict={refused} />)
    const s = screen.getByTestId('verdict-summary')
    expect(s.getAttribute('data-allowed')).toBe('false')
    expect(s.textContent).toContain('Refused · 401')
    expect(s.textContent).toContain('invalid_token')
    expect(s.textContent).toContain('2 passed · 2 failed · 1 skipped')
    expect(s.textContent).toContain('Audience: The token is for web-app, not this API.')
    expect(s.textContent).toContain("Fix: Add books-api to the client's audiences.")
    expect(s.textContent).toContain('WWW-Authenticate:')
  })

  it('summarises an accepted call', () => {
    const ok: Verdict = { allowed: true, status: 200, checks: [{ check: 'signature', result: 'passed' }] }
    render(<VerdictView verdict={ok} />)
    expect(screen.getByTestId('verdict-summary').textContent).toContain('Accepted · 200')
    expect(screen.getByTestId('verdict-summary').textContent).toContain('Every check passed')
    expect(document.querySelector('tr.first-failure')).toBeNull()
  })

  it('helpers: first failure, challenge code, one-line summary', () => {
    expect(firstFailure(refused)?.check).toBe('aud')
    expect(challengeError(refused.challenge)).toBe('invalid_token')
    expect(challengeError('Bearer realm="x"')).toBeNull()
    expect(challengeError(null)).toBeNull()
    expect(verdictLine(refused)).toBe('Audience: The token is for `web-app`, not this API.')
    expect(verdictLine({ allowed: true, status: 200, checks: [] })).toBe('allowed')
  })
})

describe('compared values', () => {
  it('shows objects as key: value lines and UNIX times with the time of day', () => {
    const v: Verdict = {
      allowed: false, status: 401,
      checks: [
        { check: 'exp', result: 'failed', expected: { api_now: 1795968183, leeway: 0 }, actual: 1795960000 },
        { check: 'scope', result: 'passed', expected: ['read_books'], actual: { claim: 'scope', scopes: ['read_books', 'add_books'] } },
      ],
    }
    const { container } = render(<VerdictTable verdict={v} />)
    const [exp, act] = container.querySelectorAll('tr[data-check="exp"] td.cmp')
    const lines = [...exp.querySelectorAll('.vv.list > span')].map((x) => x.textContent)
    expect(lines[0]).toMatch(/^api_now: 1795968183 \d\d:\d\d:\d\d/)
    expect(lines[1]).toBe('leeway: 0')
    expect(act.textContent).toMatch(/^1795960000 /)
    const scope = container.querySelectorAll('tr[data-check="scope"] td.cmp')[1]
    expect([...scope.querySelectorAll('.vv.list > span')].map((x) => x.textContent)).toEqual(['claim: scope', 'scopes: read_books add_books'])
  })
})
