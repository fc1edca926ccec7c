// How a dynamically registered client (RFC 7591) came to exist: when, from which origin and user
// agent, and the metadata it sent. Shown on its page; the client list tags it.

import type { Registration } from '../api/types'
import { formatDateTime } from '../lib/format'
import { Code } from './Code'
import { Panel } from './ui'

export function RegistrationInfo({ r }: { r: Registration }) {
  return (
    <Panel title="Registered dynamically" hint="it registered itself at /register (RFC 7591); it always gets the consent page" id="registration">
      <div className="stack" data-testid="registration-info">
        <dl style={{ display: 'grid', gridTemplateColumns: 'max-content minmax(0, 1fr)', gap: '6px 18px', margin: 0 }}>
          <dt className="muted">Registered</dt><dd style={{ margin: 0 }}>{formatDateTime(r.registered_at)}</dd>
          {r.updated_at && <><dt className="muted">Updated (RFC 7592)</dt><dd style={{ margin: 0 }}>{formatDateTime(r.updated_at)}</dd></>}
          <dt className="muted">Origin</dt><dd style={{ margin: 0 }} className="mono">{r.origin ?? <span className="muted">none (not a browser)</span>}</dd>
          <dt className="muted">User agent</dt><dd className="mono" style={{ margin: 0, wordBreak: 'break-all' }}>{r.user_agent ?? <span className="muted">none</span>}</dd>
        </dl>
        <div className="muted small">The metadata it registered (display URLs such as logo_uri are shown, never fetched):</div>
        <Code code={JSON.stringify(r.metadata, null, 2)} maxHeight={280} />
      </div>
    </Panel>
  )
}
