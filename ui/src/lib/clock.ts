// The server's clock as seen from the browser. Token times (`exp`, `iat`) are in the server's
// (possibly virtual) clock, so countdowns use `serverNow()`: the browser clock plus the skew
// measured from /admin/api/clock, corrected when a `clock.moved` event arrives.

import { useSyncExternalStore } from 'react'

let skewMs = 0
let offset = 0
const listeners = new Set<() => void>()
let timer: ReturnType<typeof setInterval> | undefined
let tick = 0

/** Records a server reading `now` (UNIX seconds) taken between `sentAt` and `receivedAt` (ms). */
export function syncServerClock(now: number, virtualOffset: number, sentAt: number, receivedAt = Date.now()): void {
  const mid = (sentAt + receivedAt) / 2
  // The server's `now` is whole seconds: add half a second to centre the estimate.
  skewMs = now * 1000 + 500 - mid
  offset = virtualOffset
  emit()
}

/** Applies a virtual-clock move before the next reading arrives. */
export function applyClockOffset(newOffset: number): void {
  skewMs += (newOffset - offset) * 1000
  offset = newOffset
  emit()
}

export const clockOffset = (): number => offset

/** Server time in milliseconds. */
export function serverNowMs(): number {
  return Date.now() + skewMs
}

/** Server time in seconds (fractional). */
export const serverNow = (): number => serverNowMs() / 1000

function emit() {
  tick++
  for (const l of listeners) l()
}

function subscribe(l: () => void): () => void {
  listeners.add(l)
  if (!timer) timer = setInterval(emit, 1000)
  return () => {
    listeners.delete(l)
    if (listeners.size === 0 && timer) {
      clearInterval(timer)
      timer = undefined
    }
  }
}

/** Re-renders every second (one shared timer) and returns the server time in seconds. */
export function useServerNow(): number {
  useSyncExternalStore(subscribe, () => tick, () => tick)
  return serverNow()
}

/** For tests. */
export function resetClock(): void {
  skewMs = 0
  offset = 0
  emit()
}

/** The virtual clock's offset in seconds (0 = real time), re-rendering when it moves. */
export function useClockOffset(): number {
  return useSyncExternalStore(subscribeOffset, () => offset, () => offset)
}

function subscribeOffset(l: () => void): () => void {
  listeners.add(l)
  return () => listeners.delete(l)
}
