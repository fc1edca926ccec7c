import { render } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import { Ticks } from './ui'

describe('server messages', () => {
  it('shows `quoted` parts as code', () => {
    const { container } = render(<Ticks text="verified with published key `k1`, not `k0`" />)
    expect(container.textContent).toBe('verified with published key k1, not k0')
    expect([...container.querySelectorAll('code')].map((c) => c.textContent)).toEqual(['k1', 'k0'])
  })

  it('leaves an unpaired backtick and plain text alone', () => {
    const { container } = render(<><Ticks text="a `b` c `d" /><Ticks text="no quotes" /></>)
    expect(container.textContent).toBe('a b c `dno quotes')
    expect(container.querySelectorAll('code')).toHaveLength(1)
  })
})
