// Scopes picked from the registry as toggle chips; a selected scope that no longer exists
// stays visible (marked) so it can be removed.

import { Link } from 'react-router'
import { useScopes } from '../api/queries'

export function ScopePicker(props: {
  id: string
  label: string
  value: string[]
  onChange: (v: string[]) => void
  /** Leave out the OpenID Connect scopes (an API does not require `openid`). */
  apiOnly?: boolean
  compact?: boolean
}) {
  const scopes = useScopes()
  const { value, onChange } = props
  const list = (scopes.data ?? []).filter((s) => !props.apiOnly || !s.builtin || value.includes(s.name))
  const missing = value.filter((v) => scopes.data && !scopes.data.some((s) => s.name === v))
  return (
    <div className="chips" role="group" aria-label={props.label} id={props.id}>
      {scopes.isPending && <span className="muted small">Loading scopes…</span>}
      {scopes.data && list.length === 0 && (
        <span className="muted small">No API scopes yet. <Link to="/scopes">Create one</Link> (for example <code>read_books</code>).</span>
      )}
      {list.map((s) => {
        const on = value.includes(s.name)
        return (
          <button
            key={s.name}
            type="button"
            className="chip mono"
            aria-pressed={on}
            title={s.description || s.name}
            data-scope={s.name}
            onClick={() => onChange(on ? value.filter((x) => x !== s.name) : [...value, s.name])}
          >
            {s.name}
          </button>
        )
      })}
      {missing.map((v) => (
        <button key={v} type="button" className="chip mono missing" aria-pressed data-scope={v} onClick={() => onChange(value.filter((x) => x !== v))} title="This scope is not in the registry: click to remove">
          {v} (not registered)
        </button>
      ))}
      {missing.length > 0 && !props.compact && (
        <span className="small muted">Create {missing.length === 1 ? 'it' : 'them'} in <Link to="/scopes">Scopes</Link> first, or remove {missing.length === 1 ? 'it' : 'them'}.</span>
      )}
    </div>
  )
}
