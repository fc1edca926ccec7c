// Formatting of times, durations and sizes for people.

/** `1h 02m`, `4m 05s`, `12s`; negative durations are formatted as their absolute value. */
export function formatDuration(totalSeconds: number): string {
  let s = Math.max(0, Math.floor(Math.abs(totalSeconds)))
  const d = Math.floor(s / 86400)
  s -= d * 86400
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  const p = (n: number) => String(n).padStart(2, '0')
  if (d > 0) return `${d}d ${p(h)}h`
  if (h > 0) return `${h}h ${p(m)}m`
  if (m > 0) return `${m}m ${p(s)}s`
  return `${s}s`
}

/** A lifetime in seconds the way the config file would say it: `1h`, `15m`, `30d`, `90s`. */
export function formatTtl(seconds: number): string {
  const units: [number, string][] = [[604800, 'w'], [86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']]
  if (seconds === 0) return '0s'
  let rest = seconds
  let out = ''
  for (const [n, u] of units) {
    if (rest >= n) {
      out += `${Math.floor(rest / n)}${u}`
      rest %= n
    }
  }
  return out
}

/** Parses `90`, `15m`, `1h30m`, `2d` (the config file's duration syntax) to seconds. */
export function parseTtl(input: string): number | null {
  const s = input.trim()
  if (!s) return null
  if (/^\d+$/.test(s)) return Number(s)
  const re = /(\d+)([smhdw])/g
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }
  let total = 0
  let consumed = 0
  for (const m of s.matchAll(re)) {
    if (m.index !== consumed) return null
    total += Number(m[1]) * unit[m[2]]
    consumed += m[0].length
  }
  return consumed === s.length ? total : null
}

const dateFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
})
const shortFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })

/** A UNIX time (seconds) as a local date and time. */
export const formatDateTime = (unixSeconds: number): string => dateFmt.format(new Date(unixSeconds * 1000))
/** Without the year, for dense tables. */
export const formatShortDateTime = (unixSeconds: number): string => shortFmt.format(new Date(unixSeconds * 1000))
export const formatTime = (unixSeconds: number): string => timeFmt.format(new Date(unixSeconds * 1000))

/** `in 4m 05s` / `3m 10s ago` relative to `now` (both UNIX seconds). */
export function relative(unixSeconds: number, now: number): string {
  const d = unixSeconds - now
  if (Math.abs(d) < 1) return 'now'
  return d > 0 ? `in ${formatDuration(d)}` : `${formatDuration(d)} ago`
}

export function shortId(id: string, n = 8): string {
  return id.length > n + 1 ? `${id.slice(0, n)}…` : id
}
