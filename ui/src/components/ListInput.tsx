// An editable list of strings (redirect URIs, audiences, claims): one input per row.

import { Plus, X } from 'lucide-react'
import { useRef } from 'react'

export function ListInput(props: {
  id: string
  value: string[]
  onChange: (v: string[]) => void
  onBlur?: () => void
  placeholder?: string
  addLabel: string
  groupLabel: string
  invalid?: boolean
  mono?: boolean
}) {
  const { value, onChange } = props
  const wrap = useRef<HTMLDivElement>(null)
  const rows = value.length ? value : []
  const add = () => {
    onChange([...value, ''])
    requestAnimationFrame(() => {
      const inputs = wrap.current?.querySelectorAll('input')
      inputs?.[inputs.length - 1]?.focus()
    })
  }
  return (
    <div className="list-rows" ref={wrap} id={props.id} role="group" aria-label={props.groupLabel}>
      {rows.map((v, i) => (
        <div className="input-group" key={i}>
          <input
            className={`input ${props.mono ? 'mono' : ''}`}
            value={v}
            placeholder={props.placeholder}
            aria-invalid={props.invalid || undefined}
            aria-label={`${props.addLabel.replace(/^Add (an? )?/, '')} ${i + 1}`}
            onChange={(e) => onChange(value.map((x, j) => (j === i ? e.target.value : x)))}
            onBlur={props.onBlur}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault()
                add()
              }
            }}
          />
          <button type="button" className="btn icon ghost" aria-label={`Remove ${v || 'empty row'}`} onClick={() => onChange(value.filter((_, j) => j !== i))}>
            <X size={14} />
          </button>
        </div>
      ))}
      <div>
        <button type="button" className="btn sm" onClick={add}>
          <Plus size={13} /> {props.addLabel}
        </button>
      </div>
    </div>
  )
}
