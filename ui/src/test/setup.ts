// Vitest setup: unmount rendered components after each test (no globals, so do it here).
import { cleanup } from '@testing-library/react'
import { afterEach } from 'vitest'

afterEach(() => cleanup())
