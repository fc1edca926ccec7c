// Small building blocks shared by the pages.

import { AlertCircle, Check, Copy, Eye, EyeOff, Inbox } from 'lucide-react'
import { useEffect, useId, useRef, useState, type ReactNode } from 'react'
import { ApiError } from '../api/client'
import { copyText } from '../platform'
import { useToast } from './toast'

export function PageHeader(props: { title: ReactNode; sub?: ReactNode; actions?: ReactNode; crumbs?: ReactNode }) {
  return (
    <header className="page-head">
      <div className="titles">
        {props.crumbs && <div className="crumbs">{props.crumbs}</div>}
        <h1>{props.title}</h1>
        {props.sub && <p className="sub">{props.sub}</p>}
      </div>
      {props.actions && <div className="actions">{props.actions}</div>}
    </header>
  )
}

export function Panel(props: { title?: ReactNode; hint?: ReactNode; right?: ReactNode; children: ReactNode; flush?: boolean; className?: string; id?: string }) {
  return (
    <section className={`panel ${props.className ?? ''}`} aria-label={typeof props.title === 'string' ? props.title : undefined} id={props.id}>
      {(props.title || props.right) && (
        <div className="panel-head">
          {props.title && <h2>{props.title}</h2>}
          {props.hint && <span className="hint">{props.hint}</span>}
          {props.right && <div className="right">{props.right}</div>}
        </div>
      )}
      <div className={`panel-body ${props.flush ? 'flush' : ''}`}>{props.children}</div>
    </section>
  )
}

export function CopyButton({ text, label, small, title }: { text: string; label?: string; small?: boolean; title?: string }) {
  const [done, setDone] = useState(false)
  const toast = useToast()
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined)
  useEffect(() => () => clearTimeout(timer.current), [])
  const onClick = async () => {
    const ok = await copyText(text)
    toast(ok ? 'Copied to the clipboard' : 'Could not copy: select the text and copy it by hand')
    if (ok) {
      setDone(true)
      clearTimeout(timer.current)
      timer.current = setTimeout(() => setDone(false), 1500)
    }
  }
  const name = title ?? (label ? undefined : 'Copy')
  return (
    <button
      type="button"
      className={`btn ${label ? '' : 'icon'} ${small ? 'sm' : ''} ${label ? '' : 'ghost'} ${done ? 'copy-ok' : ''}`}
      onClick={onClick}
      title={name}
      aria-label={label ?? name}
    >
      {done ? <Check size={14} /> : <Copy size={14} />}
      {label}
    </button>
  )
}

export function EmptyState(props: { icon?: ReactNode; title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className="empty">
      <div className="icon">{props.icon ?? <Inbox size={22} />}</div>
      <h3>{props.title}</h3>
      {props.children && <div className="muted stack-sm" style={{ alignItems: 'center' }}>{props.children}</div>}
      {props.action}
    </div>
  )
}

/** Server messages quote ids and values in `backticks`: show those parts as code. */
export function Ticks({ text }: { text: string }) {
  const parts = text.split('`')
  // An unpaired backtick stays as it is.
  if (parts.length % 2 === 0) parts.splice(-2, 2, `${parts[parts.length - 2]}\`${parts[parts.length - 1]}`)
  return <span>{parts.map((p, i) => (i % 2 ? <code key={i} className="tick">{p}</code> : p))}</span>
}

export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message
  if (e instanceof Error) return e.message
  return String(e)
}

export function ErrorBox({ error, title = 'Something went wrong' }: { error: unknown; title?: string }) {
  const status = error instanceof ApiError && error.status ? ` (HTTP ${error.status})` : ''
  return (
    <div className="error-box" role="alert">
      <AlertCircle size={16} style={{ flex: 'none', marginTop: 2 }} />
      <div>
        <div className="t">{title}{status}</div>
        <div className="m"><Ticks text={errorMessage(error)} /></div>
      </div>
    </div>
  )
}

export function Loading({ rows = 3 }: { rows?: number }) {
  return (
    <div className="stack-sm" style={{ padding: 16 }} aria-busy="true" aria-label="Loading">
      {Array.from({ length: rows }, (_, i) => (
        <div key={i} className="skeleton" style={{ width: `${90 - i * 15}%` }} />
      ))}
    </div>
  )
}

export function FieldError({ message, id }: { message?: string; id?: string }) {
  if (!message) return null
  return (
    <div className="error" id={id} role="alert">
      <AlertCircle size={13} />
      <span><Ticks text={message} /></span>
    </div>
  )
}

export function Field(props: { label: ReactNode; htmlFor?: string; help?: ReactNode; error?: string; children: ReactNode; className?: string }) {
  return (
    <div className={`field ${props.className ?? ''}`}>
      {props.htmlFor ? <label htmlFor={props.htmlFor}>{props.label}</label> : <div className="label">{props.label}</div>}
      {props.children}
      <FieldError message={props.error} id={props.htmlFor ? `${props.htmlFor}-error` : undefined} />
      {props.help && !props.error && <div className="help">{props.help}</div>}
    </div>
  )
}

/** A secret shown as dots until revealed, with copy. */
export function SecretText({ value }: { value: string }) {
  const [shown, setShown] = useState(false)
  return (
    <span className="input-group" style={{ gap: 2 }}>
      <span className="mono" style={{ minWidth: 0, overflowWrap: 'anywhere' }}>{shown ? value : '•'.repeat(Math.min(24, value.length))}</span>
      <button type="button" className="btn icon ghost sm" onClick={() => setShown(!shown)} aria-label={shown ? 'Hide secret' : 'Reveal secret'} title={shown ? 'Hide' : 'Reveal'}>
        {shown ? <EyeOff size={14} /> : <Eye size={14} />}
      </button>
      <CopyButton text={value} small title="Copy secret" />
    </span>
  )
}

export function Segmented<T extends string>(props: { value: T; options: { value: T; label: string }[]; onChange: (v: T) => void; label: string }) {
  return (
    <div className="segmented" role="tablist" aria-label={props.label}>
      {props.options.map((o) => (
        <button key={o.value} type="button" role="tab" aria-selected={props.value === o.value} onClick={() => props.onChange(o.value)}>
          {o.label}
        </button>
      ))}
    </div>
  )
}

/**
 * The banner above a form after a failed save. Each new failure (`attempt` changes) scrolls it
 * into view and focuses it, so the reason is the first thing seen and read out.
 */
export function FormErrorBanner({ attempt, focus = true, children }: { attempt: number; focus?: boolean; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null)
  useEffect(() => {
    if (attempt > 0 && focus) {
      ref.current?.scrollIntoView({ block: 'center' })
      ref.current?.focus({ preventScroll: true })
    }
  }, [attempt, focus])
  return (
    <div className="form-error" role="alert" data-testid="form-error" ref={ref} tabIndex={-1}>
      <AlertCircle size={16} />
      <div>{children}</div>
    </div>
  )
}

/** A native <dialog> asking to confirm a destructive action; without `confirm`, it only explains. */
export function ConfirmDialog(props: {
  open: boolean
  title: string
  children: ReactNode
  confirm?: string
  busy?: boolean
  error?: unknown
  onConfirm: () => void
  onClose: () => void
}) {
  const ref = useRef<HTMLDialogElement>(null)
  const titleId = useId()
  useEffect(() => {
    const d = ref.current
    if (!d) return
    if (props.open && !d.open) d.showModal()
    if (!props.open && d.open) d.close()
  }, [props.open])
  return (
    <dialog ref={ref} className="modal" onClose={props.onClose} aria-labelledby={titleId}>
      <div className="modal-body">
        <h2 id={titleId}>{props.title}</h2>
        <div className="muted">{props.children}</div>
        {props.error ? <ErrorBox error={props.error} title="It did not work" /> : null}
      </div>
      <div className="modal-foot">
        <button type="button" className="btn" onClick={props.onClose} autoFocus>{props.confirm ? 'Cancel' : 'Close'}</button>
        {props.confirm && (
          <button type="button" className="btn danger solid" onClick={props.onConfirm} disabled={props.busy}>
            {props.busy ? 'Working…' : props.confirm}
          </button>
        )}
      </div>
    </dialog>
  )
}
