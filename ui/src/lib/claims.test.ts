import { describe, expect, it } from 'vitest'
import { boundJkt } from './claims'

describe('boundJkt', () => {
  it('reads cnf.jkt of a DPoP-bound token and nothing else', () => {
    expect(boundJkt({ cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } })).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
    expect(boundJkt({ cnf: { 'x5t#S256': 'abc' } })).toBeNull()
    expect(boundJkt({ cnf: 'jkt' })).toBeNull()
    expect(boundJkt({})).toBeNull()
    expect(boundJkt(null)).toBeNull()
  })
})
