// The virtual clock, impossible to miss: when it is shifted, a banner on every page says by
// how much, with Reset and +/- controls (the sidebar's indicator leads here).

import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Clock } from 'lucide-react'
import { Link } from 'react-router'
import { api } from '../api/client'
import { keys } from '../api/queries'
import { applyClockOffset, useClockOffset } from '../lib/clock'
import { formatDuration } from '../lib/format'
import { ErrorBox } from './ui'

/** `+2h 00m` / `−10m 00s` */
export function offsetText(offset: number): string {
  return `${offset > 0 ? '+' : '−'}${formatDuration(offset)}`
}

export const CLOCK_BANNER_ID = 'clock-banner'

export function useMoveClock() {
  const qc = useQueryClient()
  return useMutation({
    mutationFn: api.moveClock,
    onSuccess: (c) => {
      applyClockOffset(c.offset)
      void qc.invalidateQueries({ queryKey: keys.clock })
      void qc.invalidateQueries({ queryKey: keys.status })
    },
  })
}

const STEPS: [string, number][] = [['−1 h', -3600], ['−10 min', -600], ['+10 min', 600], ['+1 h', 3600], ['+1 day', 86400]]

export function ClockBanner() {
  const offset = useClockOffset()
  const move = useMoveClock()
  if (offset === 0) return null
  const ahead = offset > 0
  return (
    <section className="clock-banner" id={CLOCK_BANNER_ID} aria-label="Virtual clock" data-testid="clock-banner" tabIndex={-1}>
      <Clock size={16} aria-hidden="true" />
      <div className="what">
        <strong>The server clock is {offsetText(offset)} {ahead ? 'ahead of' : 'behind'} real time.</strong>{' '}
        <span className="why">Issuing, expiry, codes and introspection all follow it.</span>
      </div>
      <div className="controls" role="group" aria-label="Move the clock">
        {STEPS.map(([label, n]) => (
          <button key={label} type="button" className="btn sm" onClick={() => move.mutate({ advance: n })} disabled={move.isPending} aria-label={`Move the clock ${label}`}>
            {label}
          </button>
        ))}
        <button type="button" className="btn sm primary" data-testid="clock-reset" onClick={() => move.mutate({ offset: 0 })} disabled={move.isPending}>
          Reset to real time
        </button>
        <Link to="/settings#clock" className="btn sm ghost">More…</Link>
      </div>
      {move.error ? <div className="err"><ErrorBox error={move.error} title="The clock did not move" /></div> : null}
    </section>
  )
}
