import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Lock, Pencil, Plus, Tags, Trash2 } from 'lucide-react'
import { Fragment, useEffect, useRef, useState } from 'react'
import { useForm } from 'react-hook-form'
import { Link } from 'react-router'
import { api } from '../api/client'
import { keys, useResources, useScopes } from '../api/queries'
import type { Resource, Scope, ScopeView } from '../api/types'
import { useToast } from '../components/toast'
import { ConfirmDialog, EmptyState, ErrorBox, Field, FormErrorBanner, Loading, PageHeader, Panel } from '../components/ui'
import { isConflict, mapFieldErrors } from '../lib/serverErrors'

/** The resources whose required scopes or rules name `scope`. */
export function resourcesUsing(scope: string, resources: Resource[] | undefined): string[] {
  return (resources ?? [])
    .filter((r) => r.required_scopes.includes(scope) || (r.rules ?? []).some((rule) => rule.scopes.includes(scope)))
    .map((r) => r.name)
}

interface ScopeForm {
  name: string
  description: string
  claims: string
}

export const splitList = (s: string): string[] => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean)

function ScopeDialog({ scope, open, onClose }: { scope: ScopeView | null; open: boolean; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null)
  const qc = useQueryClient()
  const toast = useToast()
  const [rest, setRest] = useState<string[]>([])
  const [taken, setTaken] = useState<string | null>(null)
  const [failures, setFailures] = useState(0)
  const { register, handleSubmit, reset, setError, formState: { errors, isSubmitting } } = useForm<ScopeForm>({ mode: 'onSubmit', reValidateMode: 'onChange' })
  useEffect(() => {
    const d = ref.current
    if (!d) return
    if (open) {
      reset({ name: scope?.name ?? '', description: scope?.description ?? '', claims: scope?.claims.join(', ') ?? '' })
      setRest([])
      setTaken(null)
      if (!d.open) d.showModal()
    } else if (d.open) d.close()
  }, [open, scope, reset])

  const save = useMutation({
    mutationFn: (s: Scope) => (scope ? api.updateScope(scope.name, s) : api.createScope(s)),
    onSuccess: (s) => {
      qc.setQueryData<ScopeView[]>(keys.scopes, (l) => (l ? [...l.filter((x) => x.name !== s.name), s] : l))
      toast(scope ? 'Scope saved' : `Scope ${s.name} created`)
      onClose()
    },
  })
  const onSubmit = handleSubmit(async (v) => {
    setRest([])
    setTaken(null)
    try {
      await save.mutateAsync({ name: v.name.trim(), description: v.description.trim(), claims: splitList(v.claims) })
    } catch (e) {
      if (!scope && isConflict(e)) {
        setError('name', { type: 'server', message: 'A scope with this name exists' })
        setTaken(v.name.trim())
        setFailures((n) => n + 1)
        return
      }
      setFailures((n) => n + 1)
      const m = mapFieldErrors(e, ['name', 'description', 'claims'])
      m.fields.forEach((f) => setError(f.field as keyof ScopeForm, { type: 'server', message: f.message }))
      setRest(m.rest)
    }
  })
  return (
    <dialog ref={ref} className="modal wide" onClose={onClose} aria-labelledby="scope-title">
      <form onSubmit={onSubmit} noValidate>
        <div className="modal-body" style={{ gap: 16 }}>
          <h2 id="scope-title">{scope ? `Edit ${scope.name}` : 'New scope'}</h2>
          {taken && (
            <FormErrorBanner attempt={failures}>
              <strong>A scope named <code className="tick">{taken}</code> already exists.</strong>
              <div>Close this and edit it in the list, or choose another name.</div>
            </FormErrorBanner>
          )}
          {rest.length > 0 && <FormErrorBanner attempt={failures}><strong>Not saved</strong>{rest.map((m) => <div key={m}>{m}</div>)}</FormErrorBanner>}
          <Field label="Name" htmlFor="scope-name" error={errors.name?.message} help="The scope token apps request, e.g. read_books or orders:write.">
            <input
              id="scope-name"
              className="input mono"
              readOnly={!!scope}
              autoFocus={!scope}
              aria-invalid={!!errors.name}
              {...register('name', {
                required: 'A name is required',
                validate: (v) => (/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(v.trim()) ? true : 'Printable ASCII without spaces, " or \\ (RFC 6749 §3.3)'),
              })}
            />
          </Field>
          <Field label="Description" htmlFor="scope-description" error={errors.description?.message} help="For people: shown on the consent page.">
            <input id="scope-description" className="input" autoFocus={!!scope} placeholder="e.g. Read the book catalogue" {...register('description')} />
          </Field>
          <Field label="Released claims" htmlFor="scope-claims" error={errors.claims?.message} help="User claims added to the ID token and userinfo when this scope is granted; separate with commas.">
            <input id="scope-claims" className="input mono" placeholder="e.g. department, employee_id" {...register('claims')} />
          </Field>
        </div>
        <div className="modal-foot">
          <button type="button" className="btn" onClick={onClose}>Cancel</button>
          <button type="submit" className="btn primary" disabled={isSubmitting}>{isSubmitting ? 'Saving…' : scope ? 'Save scope' : 'Create scope'}</button>
        </div>
      </form>
    </dialog>
  )
}

export function ScopesPage() {
  const { data, error, isPending } = useScopes()
  const resources = useResources()
  const qc = useQueryClient()
  const toast = useToast()
  const [editing, setEditing] = useState<ScopeView | null>(null)
  const [open, setOpen] = useState(false)
  const [deleting, setDeleting] = useState<ScopeView | null>(null)
  const del = useMutation({
    mutationFn: (name: string) => api.deleteScope(name),
    onSuccess: (_, name) => {
      qc.setQueryData<ScopeView[]>(keys.scopes, (l) => l?.filter((s) => s.name !== name))
      toast(`Scope ${name} deleted`)
      setDeleting(null)
    },
  })
  const custom = data?.filter((s) => !s.builtin) ?? []
  const builtin = data?.filter((s) => s.builtin) ?? []
  const newScope = () => { setEditing(null); setOpen(true) }

  const table = (rows: ScopeView[], editable: boolean) => (
    <div className="table-wrap">
      <table className="table">
        {/* The same widths in both tables, so the custom and built-in columns line up. */}
        <colgroup>
          <col style={{ width: '34%' }} />
          <col style={{ width: '38%' }} />
          <col />
          {editable && <col style={{ width: 84 }} />}
        </colgroup>
        <thead>
          <tr><th>Scope</th><th>Released claims</th><th>Clients that may request it</th>{editable && <th className="actions"><span className="sr-only">Actions</span></th>}</tr>
        </thead>
        <tbody>
          {rows.map((s) => (
            <tr key={s.name} data-scope-row={s.name}>
              <td style={{ minWidth: 220 }}>
                <span className="tag accent">{s.name}</span>
                <div className="sub" style={{ marginTop: 4 }}>{s.description || <span className="faint">No description</span>}</div>
              </td>
              <td><div className="chips">{s.claims.length ? s.claims.map((c) => <span key={c} className="tag">{c}</span>) : <span className="faint">none</span>}</div></td>
              <td>
                <div className="chips">
                  {s.clients.length ? s.clients.map((c) => <Link key={c} className="tag" to={`/clients/${encodeURIComponent(c)}`}>{c}</Link>) : <span className="faint">no client yet</span>}
                </div>
              </td>
              {editable && (
                <td className="actions">
                  <button type="button" className="btn icon ghost" aria-label={`Edit ${s.name}`} title="Edit" onClick={() => { setEditing(s); setOpen(true) }}><Pencil size={14} /></button>
                  {(() => {
                    const inUse = s.clients.length > 0 || resourcesUsing(s.name, resources.data).length > 0
                    return (
                      <button
                        type="button"
                        className={`btn icon ghost ${inUse ? '' : 'danger'}`}
                        aria-label={inUse ? `Why ${s.name} cannot be deleted` : `Delete ${s.name}`}
                        title={inUse ? 'In use: it cannot be deleted yet (click to see where)' : 'Delete'}
                        data-in-use={inUse}
                        onClick={() => { del.reset(); setDeleting(s) }}
                      >
                        <Trash2 size={14} />
                      </button>
                    )
                  })()}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )

  return (
    <div className="page">
      <PageHeader
        title="Scopes"
        sub="What clients may ask for, and which user claims each scope releases."
        actions={<button type="button" className="btn primary" onClick={newScope}><Plus size={14} /> New scope</button>}
      />
      {error && <ErrorBox error={error} title="Could not load the scopes" />}
      <Panel title="Custom scopes" hint="yours to define: API permissions such as read_books" flush>
        {isPending ? <Loading /> : custom.length === 0 ? (
          <EmptyState icon={<Tags size={22} />} title="No custom scopes yet" action={<button type="button" className="btn primary" onClick={newScope}>Create a scope</button>}>
            <p>Define the permissions of the APIs you are building (for example <code>read_books</code>), then allow them on a client.</p>
          </EmptyState>
        ) : table(custom, true)}
      </Panel>
      <Panel title="Built-in scopes" hint={<span className="row" style={{ gap: 5 }}><Lock size={12} /> OpenID Connect, read-only</span>} flush>
        {isPending ? <Loading /> : table(builtin, false)}
      </Panel>
      <ScopeDialog scope={editing} open={open} onClose={() => setOpen(false)} />
      {(() => {
        const users = deleting ? resourcesUsing(deleting.name, resources.data) : []
        const inUse = !!deleting && (deleting.clients.length > 0 || users.length > 0)
        return (
          <ConfirmDialog
            open={!!deleting}
            title={inUse ? `${deleting?.name} is still in use` : `Delete the scope ${deleting?.name}?`}
            confirm={inUse ? undefined : 'Delete scope'}
            busy={del.isPending}
            error={del.error}
            onConfirm={() => deleting && del.mutate(deleting.name)}
            onClose={() => setDeleting(null)}
          >
            {inUse ? (
              <div className="stack-sm" data-testid="scope-in-use">
                <span>A scope that clients may request or resources require cannot be deleted: remove it from them first.</span>
                {deleting!.clients.length > 0 && (
                  <span>Clients: {deleting!.clients.map((c, i) => <Fragment key={c}>{i ? ', ' : ''}<Link to={`/clients/${encodeURIComponent(c)}`} onClick={() => setDeleting(null)}>{c}</Link></Fragment>)}</span>
                )}
                {users.length > 0 && (
                  <span>Resources: {users.map((r, i) => <Fragment key={r}>{i ? ', ' : ''}<Link to={`/resources/${encodeURIComponent(r)}/edit`} onClick={() => setDeleting(null)}>{r}</Link></Fragment>)}</span>
                )}
              </div>
            ) : 'No client may request it and no resource requires it.'}
          </ConfirmDialog>
        )
      })()}
    </div>
  )
}
