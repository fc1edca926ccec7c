// The watched config file (`latchkey serve --config FILE --watch`) changed but was refused:
// a banner on every page says so, with each error's file, line, column and key, until a
// later change is applied. Nothing the file described changed meanwhile, which the banner
// says too, so nobody wonders why their edit "did nothing".

import { FileWarning } from 'lucide-react'
import { useStatus } from '../api/queries'
import type { ConfigFileError } from '../api/types'

/** `latchkey.toml:12:1` (as far as it is known). */
export function errorPlace(e: ConfigFileError): string {
  return [e.file, e.line, e.line != null ? e.column : null].filter((x) => x != null && x !== '').join(':')
}

export function ConfigBanner() {
  const { data } = useStatus()
  const cfg = data?.config
  if (!cfg || cfg.state !== 'rejected') return null
  const name = cfg.file.split(/[\\/]/).pop() || cfg.file
  const shown = cfg.errors.slice(0, 5)
  return (
    <section className="config-banner" role="alert" aria-label="Config file refused" data-testid="config-banner">
      <FileWarning size={16} aria-hidden="true" />
      <div className="what">
        <strong>{name} was not applied: nothing it describes changed.</strong>{' '}
        <span className="why">Fix the file and save it again; Latchkey reloads it by itself.</span>
        <ul className="config-errors">
          {shown.map((e, i) => (
            <li key={i}>
              <code>{errorPlace(e) || name}</code>
              {e.key ? <> <code className="key">{e.key}</code></> : null}
              {' '}{e.message}
            </li>
          ))}
          {cfg.errors.length > shown.length ? <li className="more">and {cfg.errors.length - shown.length} more (see the server log)</li> : null}
        </ul>
      </div>
    </section>
  )
}
