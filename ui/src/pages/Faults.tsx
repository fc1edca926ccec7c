// Fault injection (docs/faults.md): the rules with their counters, a form that only offers
// what makes sense at the chosen endpoint, and scenarios. The shortcuts on the Clients,
// Users, Requests and Keys pages create rules directly, or open this form pre-filled
// (`/faults?rule=<json>`).

import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Play, RotateCcw, Save, Trash2, Zap } from 'lucide-react'
import { useEffect, useMemo, useState } from 'react'
import { useSearchParams } from 'react-router'
import { api } from '../api/client'
import { keys, useClients, useFaults, useScenarios, useUsers } from '../api/queries'
import { FAULT_ENDPOINTS, type FaultAction, type FaultEndpoint, type FaultRule, type FaultRuleState } from '../api/types'
import { useToast } from '../components/toast'
import { EmptyState, ErrorBox, Field, Loading, PageHeader, Panel } from '../components/ui'
import { ACTION_LABELS, actionsFor, cleanRule, ENDPOINT_LABELS, errorCodesFor, matchFields, TAMPERS } from '../lib/faults'

const BLANK: FaultRule = { name: '', endpoint: 'token', action: 'error', error: 'invalid_grant', times: 1 }

function defaultsFor(action: FaultAction, endpoint: FaultEndpoint): Partial<FaultRule> {
  switch (action) {
    case 'error': return { error: errorCodesFor(endpoint)[0] }
    case 'status': return { status: 503 }
    case 'delay': return { delay_ms: 2000 }
    case 'timeout': return { timeout_ms: 30000 }
    case 'malformed': return { malformed: 'truncated_json' }
    case 'tamper': return { tamper: 'expired', token: 'access_token' }
    case 'jwks': return { jwks: 'key_missing' }
    default: return {}
  }
}

function num(v: string): number | undefined {
  if (v.trim() === '') return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

function RuleForm({ initial, onDone }: { initial: FaultRule; onDone: () => void }) {
  const [r, setR] = useState<FaultRule>(initial)
  useEffect(() => setR(initial), [initial])
  const clients = useClients()
  const users = useUsers()
  const qc = useQueryClient()
  const toast = useToast()
  const save = useMutation({
    mutationFn: (rule: FaultRule) => api.createFault(rule),
    onSuccess: (v) => {
      void qc.invalidateQueries({ queryKey: keys.faults })
      toast(`Fault rule “${v.name}” created`)
      onDone()
    },
  })
  const set = (p: Partial<FaultRule>) => setR((x) => ({ ...x, ...p }))
  const fields = matchFields(r.endpoint)
  const actions = actionsFor(r.endpoint)
  const setEndpoint = (e: FaultEndpoint) => {
    const action = actionsFor(e).includes(r.action) ? r.action : actionsFor(e)[0]
    setR((x) => ({ ...x, endpoint: e, action, ...(action !== x.action ? defaultsFor(action, e) : {}) }))
  }
  const setAction = (a: FaultAction) => setR((x) => ({ ...x, action: a, ...defaultsFor(a, x.endpoint) }))
  const text = (k: keyof FaultRule, label: string, opts: { list?: string; placeholder?: string; help?: string } = {}) => (
    <Field label={label} htmlFor={`fault-${k}`} help={opts.help}>
      <input
        id={`fault-${k}`} className="input" list={opts.list} placeholder={opts.placeholder ?? 'any'}
        value={(r[k] as string | undefined) ?? ''} onChange={(e) => set({ [k]: e.target.value || undefined } as Partial<FaultRule>)}
      />
    </Field>
  )
  const number = (k: keyof FaultRule, label: string, help?: string) => (
    <Field label={label} htmlFor={`fault-${k}`} help={help}>
      <input
        id={`fault-${k}`} className="input" inputMode="numeric"
        value={(r[k] as number | undefined)?.toString() ?? ''} onChange={(e) => set({ [k]: num(e.target.value) } as Partial<FaultRule>)}
      />
    </Field>
  )
  const select = <T extends string>(k: keyof FaultRule, label: string, options: readonly (readonly [T, string])[]) => (
    <Field label={label} htmlFor={`fault-${k}`}>
      <select id={`fault-${k}`} className="input" value={(r[k] as string | undefined) ?? ''} onChange={(e) => set({ [k]: e.target.value } as Partial<FaultRule>)}>
        {options.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
      </select>
    </Field>
  )
  const submit = (e: React.FormEvent) => {
    e.preventDefault()
    const name = r.name.trim() || `${r.action} at ${r.endpoint}${r.client_id ? ` for ${r.client_id}` : ''}${r.username ? ` for ${r.username}` : ''}`
    save.mutate(cleanRule({ ...r, name }))
  }
  return (
    <form className="fault-form" onSubmit={submit} data-testid="fault-form">
      <div className="grid">
        <Field label="Endpoint" htmlFor="fault-endpoint">
          <select id="fault-endpoint" className="input" value={r.endpoint} onChange={(e) => setEndpoint(e.target.value as FaultEndpoint)}>
            {FAULT_ENDPOINTS.map((e) => <option key={e} value={e}>{ENDPOINT_LABELS[e]}</option>)}
          </select>
        </Field>
        {fields.includes('client_id') && text('client_id', 'Client', { list: 'fault-clients' })}
        {fields.includes('username') && text('username', 'User', { list: 'fault-users' })}
        {fields.includes('grant_type') && text('grant_type', 'Grant type', { list: 'fault-grants' })}
        {fields.includes('scope') && text('scope', 'Asks for scope')}
        {fields.includes('path') && text('path', 'Path (glob after /resources/)', { placeholder: 'books/*' })}
        <Field label="Action" htmlFor="fault-action">
          <select id="fault-action" className="input" value={r.action} onChange={(e) => setAction(e.target.value as FaultAction)}>
            {actions.map((a) => <option key={a} value={a}>{ACTION_LABELS[a]}</option>)}
          </select>
        </Field>
        {r.action === 'error' && (
          <>
            {select('error', 'Error code', errorCodesFor(r.endpoint).map((c) => [c, c] as const))}
            {text('error_description', 'Description', { placeholder: 'default: names the rule' })}
            {!['authorize', 'login', 'consent'].includes(r.endpoint) && number('status', 'HTTP status', 'default: 400 (401 for invalid_client)')}
          </>
        )}
        {r.action === 'status' && (
          <>
            {number('status', 'HTTP status')}
            {text('body', 'Body', { placeholder: 'default: the status line' })}
            {number('retry_after', 'Retry-After (s)', 'default 5 for 429 and 503')}
          </>
        )}
        {r.action === 'delay' && number('delay_ms', 'Delay (ms)', 'at most 60000')}
        {r.action === 'timeout' && number('timeout_ms', 'Silent for (ms)', 'then the connection closes; default 30000')}
        {r.action === 'malformed' && select('malformed', 'How', [['truncated_json', 'Truncated JSON'], ['html', 'HTML instead of JSON'], ['wrong_content_type', 'Wrong Content-Type']] as const)}
        {r.action === 'tamper' && (
          <>
            {select('tamper', 'Change', TAMPERS)}
            {select('token', 'Token', [['access_token', 'access_token'], ['id_token', 'id_token']] as const)}
            {(r.tamper === 'extra_claim' || r.tamper === 'removed_claim') && text('claim', 'Claim', { placeholder: r.tamper === 'extra_claim' ? 'latchkey_tampered' : 'sub' })}
          </>
        )}
        {r.action === 'jwks' && (
          <>
            {select('jwks', 'Serve', [['key_missing', 'Without the current key'], ['previous_only', 'Only the previous keys'], ['empty', 'An empty set'], ['unavailable', '503 Service Unavailable']] as const)}
            {r.jwks === 'key_missing' && text('kid', 'Key id', { placeholder: 'the current key' })}
          </>
        )}
        {number('times', 'Times', 'empty: until removed')}
        {number('every', 'Only every Nth', 'empty: every matching request')}
        {text('name', 'Name', { placeholder: 'generated from the rule' })}
      </div>
      <datalist id="fault-clients">{clients.data?.map((c) => <option key={c.client_id} value={c.client_id} />)}</datalist>
      <datalist id="fault-users">{users.data?.map((u) => <option key={u.username} value={u.username} />)}</datalist>
      <datalist id="fault-grants">
        {['authorization_code', 'refresh_token', 'client_credentials', 'password'].map((g) => <option key={g} value={g} />)}
      </datalist>
      <div className="actions">
        <button type="submit" className="btn primary" disabled={save.isPending} data-testid="fault-create"><Zap size={14} /> Create rule</button>
      </div>
      {save.error ? <ErrorBox error={save.error} title="The rule was not created" /> : null}
    </form>
  )
}

function matchText(r: FaultRule): string {
  const parts = [
    r.client_id && `client ${r.client_id}`, r.username && `user ${r.username}`, r.grant_type && `grant ${r.grant_type}`,
    r.scope && `scope ${r.scope}`, r.path && `path ${r.path}`,
  ].filter(Boolean)
  return parts.length ? parts.join(', ') : 'every request'
}

function countText(r: FaultRuleState): string {
  const n = r.times === undefined ? 'until removed' : r.times === 1 ? 'once' : `${r.times} times`
  return `${n}${r.every ? `, every ${r.every}th` : ''}`
}

function Rules({ rules }: { rules: FaultRuleState[] }) {
  const qc = useQueryClient()
  const done = () => void qc.invalidateQueries({ queryKey: keys.faults })
  // `enabled` is left out of the JSON when true.
  const on = (r: FaultRule) => r.enabled !== false
  const toggle = useMutation({ mutationFn: (r: FaultRuleState) => api.setFaultEnabled(r.name, !on(r)), onSuccess: done })
  const reset = useMutation({ mutationFn: (r: FaultRuleState) => api.resetFault(r.name), onSuccess: done })
  const remove = useMutation({ mutationFn: (r: FaultRuleState) => api.deleteFault(r.name), onSuccess: done })
  const err = toggle.error ?? reset.error ?? remove.error
  return (
    <div className="table-wrap">
      {err ? <ErrorBox error={err} /> : null}
      <table className="table fault-rules" data-testid="fault-rules">
        <thead>
          <tr><th>Rule</th><th>Matches</th><th>Does</th><th>Count</th><th>Fired</th><th aria-label="Actions" /></tr>
        </thead>
        <tbody>
          {rules.map((r) => (
            <tr key={r.name} className={r.active ? '' : 'off'} data-testid="fault-rule">
              <td><strong>{r.name}</strong>{!on(r) && <div className="summary">off</div>}{on(r) && !r.active && <div className="summary">used up</div>}</td>
              <td>{ENDPOINT_LABELS[r.endpoint]}<div className="summary">{matchText(r)}</div></td>
              <td>{r.summary}</td>
              <td>{countText(r)}</td>
              <td>{r.fired} <span className="summary">of {r.matched} matched</span></td>
              <td>
                <div className="row" style={{ gap: 6, flexWrap: 'nowrap' }}>
                  <button type="button" className="btn sm" onClick={() => toggle.mutate(r)} aria-label={`${on(r) ? 'Turn off' : 'Turn on'} ${r.name}`}>
                    {on(r) ? 'Turn off' : 'Turn on'}
                  </button>
                  <button type="button" className="btn sm ghost" onClick={() => reset.mutate(r)} title="Counters back to zero: a used-up rule fires again" aria-label={`Reset the counters of ${r.name}`}>
                    <RotateCcw size={14} />
                  </button>
                  <button type="button" className="btn sm ghost danger" onClick={() => remove.mutate(r)} aria-label={`Delete ${r.name}`} data-testid="fault-delete">
                    <Trash2 size={14} />
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}

function Scenarios() {
  const { data, error, isPending } = useScenarios()
  const qc = useQueryClient()
  const toast = useToast()
  const [name, setName] = useState('')
  const apply = useMutation({
    mutationFn: api.applyScenario,
    onSuccess: (s) => {
      void qc.invalidateQueries()
      toast(`Scenario “${s.name}” applied`)
    },
  })
  const save = useMutation({
    mutationFn: (n: string) => api.saveScenario(n, {}),
    onSuccess: (s) => {
      setName('')
      void qc.invalidateQueries({ queryKey: keys.scenarios })
      toast(`Saved as “${s.name}”`)
    },
  })
  const remove = useMutation({ mutationFn: api.deleteScenario, onSuccess: () => void qc.invalidateQueries({ queryKey: keys.scenarios }) })
  return (
    <Panel title="Scenarios" hint="a named set of fault rules and a clock offset (and optionally clients, users, settings); [[scenarios]] in latchkey.toml">
      {isPending ? <Loading /> : error ? <ErrorBox error={error} /> : data && data.length > 0 ? (
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th>Scenario</th><th>Rules</th><th>Clock</th><th aria-label="Actions" /></tr></thead>
            <tbody>
              {data.map((s) => (
                <tr key={s.name}>
                  <td><strong>{s.name}</strong>{s.description ? <div className="summary">{s.description}</div> : null}</td>
                  <td>{s.faults?.length ? s.faults.map((f) => f.name).join(', ') : 'none'}</td>
                  <td>{s.clock_offset ? `${s.clock_offset > 0 ? '+' : ''}${s.clock_offset} s` : 'real time'}</td>
                  <td>
                    <div className="row" style={{ gap: 6, flexWrap: 'nowrap' }}>
                      <button type="button" className="btn sm primary" onClick={() => apply.mutate(s.name)} disabled={apply.isPending}><Play size={14} /> Apply</button>
                      <button type="button" className="btn sm ghost danger" onClick={() => remove.mutate(s.name)} aria-label={`Delete scenario ${s.name}`}><Trash2 size={14} /></button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : <p className="muted">No scenarios yet. Save the current rules and clock as one below.</p>}
      <form className="row" style={{ gap: 8, marginTop: 10 }} onSubmit={(e) => { e.preventDefault(); if (name.trim()) save.mutate(name.trim()) }}>
        <input className="input" placeholder="Scenario name" value={name} onChange={(e) => setName(e.target.value)} aria-label="Scenario name" style={{ maxWidth: 280 }} />
        <button type="submit" className="btn" disabled={!name.trim() || save.isPending}><Save size={14} /> Save the current state</button>
      </form>
      {apply.error || save.error || remove.error ? <ErrorBox error={apply.error ?? save.error ?? remove.error} /> : null}
    </Panel>
  )
}

export function FaultsPage() {
  const { data, error, isPending } = useFaults()
  const [params, setParams] = useSearchParams()
  const prefill = params.get('rule')
  const initial = useMemo<FaultRule>(() => {
    if (!prefill) return BLANK
    try {
      return { ...BLANK, ...(JSON.parse(prefill) as FaultRule) }
    } catch {
      return BLANK
    }
  }, [prefill])
  return (
    <div className="page">
      <PageHeader
        title="Faults"
        sub="Make requests fail on purpose to test your app's unhappy paths: errors, outages, slow or dropped connections, broken bodies, tampered tokens, JWKS trouble. Changed responses are marked in the request log."
      />
      <Panel title="New rule" hint="the form offers what makes sense at the chosen endpoint">
        <RuleForm initial={initial} onDone={() => prefill && setParams({})} />
      </Panel>
      <Panel title="Rules" hint="tried in order; the first that matches changes the response" flush>
        {isPending ? <Loading /> : error ? <ErrorBox error={error} /> : data && data.length > 0 ? <Rules rules={data} /> : (
          <EmptyState icon={<Zap size={20} />} title="No fault rules">Every request is answered normally.</EmptyState>
        )}
      </Panel>
      <Scenarios />
    </div>
  )
}
