// Fault rules, impossible to forget: while any rule is active a banner on every page names
// them, with a way to turn them all off (and the shared mutation the one-click shortcuts use).

import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Zap } from 'lucide-react'
import { Link } from 'react-router'
import { api } from '../api/client'
import { keys, useFaults } from '../api/queries'
import type { FaultRule, FaultRuleState } from '../api/types'
import { useToast } from './toast'
import { ErrorBox } from './ui'

/** Creates a rule (a shortcut's); a rule of the same name is replaced, so a second click refreshes it. */
export function useAddFault() {
  const qc = useQueryClient()
  const toast = useToast()
  return useMutation({
    mutationFn: (r: FaultRule) => api.updateFault(r.name, r),
    onSuccess: (r: FaultRuleState) => {
      void qc.invalidateQueries({ queryKey: keys.faults })
      toast(`Fault rule “${r.name}” is on`)
    },
  })
}

export function FaultBanner() {
  const { data } = useFaults()
  const qc = useQueryClient()
  const off = useMutation({
    mutationFn: async (rules: FaultRuleState[]) => {
      for (const r of rules) await api.setFaultEnabled(r.name, false)
    },
    onSuccess: () => void qc.invalidateQueries({ queryKey: keys.faults }),
  })
  const active = (data ?? []).filter((r) => r.active)
  if (active.length === 0) return null
  const names = active.slice(0, 3).map((r) => `“${r.name}”`).join(', ') + (active.length > 3 ? ` and ${active.length - 3} more` : '')
  return (
    <section className="fault-banner" aria-label="Active fault rules" data-testid="fault-banner">
      <Zap size={16} aria-hidden="true" />
      <div className="what">
        <strong>{active.length === 1 ? 'A fault rule is on' : `${active.length} fault rules are on`}:</strong>{' '}
        <span>{names}.</span>{' '}
        <span className="why">Matching requests fail on purpose.</span>
      </div>
      <div className="controls">
        <Link to="/faults" className="btn sm">Manage</Link>
        <button type="button" className="btn sm primary" onClick={() => off.mutate(active)} disabled={off.isPending} data-testid="faults-off">
          Turn all off
        </button>
      </div>
      {off.error ? <div className="err"><ErrorBox error={off.error} title="Could not turn them off" /></div> : null}
    </section>
  )
}
