import { useMutation, useQueryClient } from '@tanstack/react-query'
import { Coins, Eye, EyeOff, Trash2, Zap } from 'lucide-react'
import { useState } from 'react'
import { useForm } from 'react-hook-form'
import { Link, useNavigate, useParams } from 'react-router'
import { api } from '../api/client'
import { keys, useUsers } from '../api/queries'
import type { Claims, User, UserSignIn, UserView } from '../api/types'
import { useToast } from '../components/toast'
import { useAddFault } from '../components/FaultBanner'
import { ConfirmDialog, ErrorBox, Field, FormErrorBanner, Loading, PageHeader, Panel } from '../components/ui'
import { isConflict, mapFieldErrors } from '../lib/serverErrors'

const TEXT_CLAIMS: { name: string; label: string; placeholder: string; type?: string }[] = [
  { name: 'name', label: 'Full name', placeholder: 'e.g. Alice Liddell' },
  { name: 'preferred_username', label: 'Preferred username', placeholder: 'e.g. alice' },
  { name: 'given_name', label: 'Given name', placeholder: 'e.g. Alice' },
  { name: 'family_name', label: 'Family name', placeholder: 'e.g. Liddell' },
  { name: 'email', label: 'Email', placeholder: 'e.g. alice@example.com', type: 'email' },
  { name: 'phone_number', label: 'Phone number', placeholder: 'e.g. +1 555 0100' },
  { name: 'picture', label: 'Picture URL', placeholder: 'https://…' },
  { name: 'locale', label: 'Locale', placeholder: 'e.g. en-GB' },
]
const STANDARD = new Set([...TEXT_CLAIMS.map((c) => c.name), 'email_verified'])

interface UserForm {
  username: string
  sub: string
  password: string
  std: Record<string, string>
  email_verified: boolean
  extra: string
  /** Kept as loaded, so saving from this page never drops them (set them in latchkey.toml). */
  signIn: UserSignIn
}

/** Validates the extra-claims editor: a JSON object that does not repeat a field above. */
export function extraClaimsProblem(text: string): string | true {
  if (!text.trim()) return true
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    return `Not valid JSON: ${(e as Error).message}`
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return 'Write a JSON object: { "claim": value, … }'
  const dup = Object.keys(v).filter((k) => STANDARD.has(k))
  if (dup.length) return `${dup.join(', ')} ${dup.length === 1 ? 'has' : 'have'} a field above: set ${dup.length === 1 ? 'it' : 'them'} there`
  return true
}

function toForm(u?: UserView): UserForm {
  const claims = u?.claims ?? {}
  const std: Record<string, string> = {}
  for (const c of TEXT_CLAIMS) std[c.name] = claims[c.name] == null ? '' : String(claims[c.name])
  const extra: Claims = {}
  for (const [k, v] of Object.entries(claims)) if (!STANDARD.has(k)) extra[k] = v
  return {
    username: u?.username ?? '',
    sub: u?.sub ?? '',
    password: '',
    std,
    email_verified: claims.email_verified === true,
    extra: Object.keys(extra).length ? JSON.stringify(extra, null, 2) : '',
    signIn: { auto_login: u?.auto_login, acr: u?.acr, amr: u?.amr },
  }
}

function fromForm(f: UserForm): User {
  const claims: Claims = {}
  for (const c of TEXT_CLAIMS) if (f.std[c.name]?.trim()) claims[c.name] = f.std[c.name].trim()
  if (claims.email) claims.email_verified = f.email_verified
  if (f.extra.trim()) Object.assign(claims, JSON.parse(f.extra) as Claims)
  const u: User = { username: f.username.trim(), claims }
  if (f.signIn.auto_login) u.auto_login = true
  if (f.signIn.acr) u.acr = f.signIn.acr
  if (f.signIn.amr?.length) u.amr = f.signIn.amr
  if (f.sub.trim()) u.sub = f.sub.trim()
  if (f.password) u.password = f.password
  return u
}

export function UserEditPage() {
  const { name } = useParams()
  const users = useUsers()
  const existing = name !== undefined ? users.data?.find((u) => u.username === name) : undefined
  if (name !== undefined && users.isPending) return <div className="page"><Loading rows={6} /></div>
  if (name !== undefined && !existing) {
    return (
      <div className="page">
        <PageHeader title="User not found" crumbs={<Link to="/users">Users</Link>} />
        <ErrorBox title="No such user" error={users.error ?? new Error(`There is no user "${name}".`)} />
      </div>
    )
  }
  return <UserFormView key={name ?? 'new'} existing={existing} />
}

function UserFormView({ existing }: { existing?: UserView }) {
  const editing = !!existing
  const qc = useQueryClient()
  const nav = useNavigate()
  const toast = useToast()
  const addFault = useAddFault()
  const [rest, setRest] = useState<string[]>([])
  const [showPw, setShowPw] = useState(false)
  const [confirmDelete, setConfirmDelete] = useState(false)
  const [taken, setTaken] = useState<string | null>(null)
  const [failures, setFailures] = useState(0)
  const { register, handleSubmit, setError, reset, formState: { errors, isSubmitting } } = useForm<UserForm>({ defaultValues: toForm(existing), mode: 'onSubmit', reValidateMode: 'onChange' })

  const save = useMutation({
    mutationFn: (u: User) => (editing ? api.updateUser(existing.username, u) : api.createUser(u)),
    onSuccess: (u) => {
      qc.setQueryData<UserView[]>(keys.users, (l) => (l ? [...l.filter((x) => x.username !== u.username), u] : l))
      toast(editing ? 'User saved' : `User ${u.username} created`)
      if (!editing) nav(`/users/${encodeURIComponent(u.username)}`, { replace: true })
      else reset(toForm(u))
    },
  })
  const remove = useMutation({
    mutationFn: () => api.deleteUser(existing!.username),
    onSuccess: () => {
      qc.setQueryData<UserView[]>(keys.users, (l) => l?.filter((x) => x.username !== existing!.username))
      toast('User deleted')
      nav('/users', { replace: true })
    },
  })

  const onSubmit = handleSubmit(async (v) => {
    setRest([])
    setTaken(null)
    try {
      await save.mutateAsync(fromForm(v))
    } catch (e) {
      setFailures((n) => n + 1)
      if (!editing && isConflict(e)) {
        setError('username', { type: 'server', message: 'A user with this username exists' })
        setTaken(v.username)
        return
      }
      const m = mapFieldErrors(e, ['username', 'sub', 'password', 'claims'])
      for (const f of m.fields) setError(f.field === 'claims' ? 'extra' : (f.field as keyof UserForm), { type: 'server', message: f.message })
      setRest(m.rest)
    }
  })

  return (
    <div className="page">
      <PageHeader
        crumbs={<><Link to="/users">Users</Link><span>/</span></>}
        title={editing ? String(existing.claims.name ?? existing.username) : 'New user'}
        sub={editing ? <span className="mono">{existing.username} · sub {existing.sub}</span> : 'A persona your apps can sign in as.'}
        actions={editing && (
          <>
            <Link className="btn" to={`/tokens?username=${encodeURIComponent(existing.username)}`} data-testid="user-tokens"><Coins size={14} /> See their tokens</Link>
            <button
              type="button" className="btn" data-testid="deny-next-login" disabled={addFault.isPending}
              title="A fault rule: their next login ends with error=access_denied at the app (see Faults)"
              onClick={() => addFault.mutate({ name: `deny the next login of ${existing.username}`, endpoint: 'login', username: existing.username, action: 'error', error: 'access_denied', times: 1 })}
            >
              <Zap size={14} /> Deny their next login
            </button>
            <button type="button" className="btn danger" onClick={() => setConfirmDelete(true)}><Trash2 size={14} /> Delete</button>
          </>
        )}
      />
      <form className="form" onSubmit={onSubmit} noValidate aria-label="User">
        {taken ? (
          <FormErrorBanner attempt={failures}>
            <strong>A user named <code className="tick">{taken}</code> already exists.</strong>
            <div><Link to={`/users/${encodeURIComponent(taken)}`}>Open it</Link>, or choose another username.</div>
          </FormErrorBanner>
        ) : (rest.length > 0 || Object.keys(errors).length > 0) && (
          <FormErrorBanner attempt={failures} focus={rest.length > 0}>
            <strong>The user was not saved.</strong>{rest.map((m) => <div key={m}>{m}</div>)}
          </FormErrorBanner>
        )}
        <Panel title="Sign-in">
          <div className="grid3">
            <Field label="Username" htmlFor="username" error={errors.username?.message} help="The login name.">
              <input id="username" className="input mono" readOnly={editing} aria-invalid={!!errors.username} {...register('username', { required: 'A username is required', validate: (v) => (v.trim() === v && v.length > 0 ? true : 'No leading or trailing spaces') })} />
            </Field>
            <Field label={editing ? 'Set a new password' : 'Password'} htmlFor="password" error={errors.password?.message} help={editing ? (existing.has_password ? 'A password is set. Leave empty to keep it.' : 'No password: signs in with one click.') : 'Optional: without one, the user signs in with one click.'}>
              <div className="input-group">
                <input id="password" className="input" type={showPw ? 'text' : 'password'} autoComplete="new-password" {...register('password')} />
                <button type="button" className="btn icon" onClick={() => setShowPw(!showPw)} aria-label={showPw ? 'Hide password' : 'Show password'}>{showPw ? <EyeOff size={14} /> : <Eye size={14} />}</button>
              </div>
            </Field>
            <Field label="Subject (sub)" htmlFor="sub" error={errors.sub?.message} help="Stable id in tokens. Empty: derived from the username.">
              <input id="sub" className="input mono" placeholder="empty: derived from the username" {...register('sub')} />
            </Field>
          </div>
        </Panel>
        <Panel title="Standard claims" hint="OpenID Connect Core §5.1; released by the profile, email and phone scopes">
          <div className="grid2">
            {TEXT_CLAIMS.map((c) => (
              <Field key={c.name} label={<>{c.label} <span className="tag">{c.name}</span></>} htmlFor={`std-${c.name}`}>
                <input id={`std-${c.name}`} className="input" type={c.type ?? 'text'} placeholder={c.placeholder} {...register(`std.${c.name}`)} />
              </Field>
            ))}
          </div>
          <label className="check" style={{ marginTop: 14 }}>
            <input type="checkbox" {...register('email_verified')} />
            <span>Email verified <span className="tag">email_verified</span></span>
          </label>
        </Panel>
        <Panel title="Extra claims" hint="any JSON, added to the user's claims as is">
          <Field label="JSON object" htmlFor="extra" error={errors.extra?.message} help={'For example { "roles": ["admin"], "tenant": "acme" }.'}>
            <textarea id="extra" className="input" rows={7} spellCheck={false} aria-invalid={!!errors.extra} placeholder={'{\n  "roles": ["admin"]\n}'} {...register('extra', { validate: extraClaimsProblem })} />
          </Field>
        </Panel>
        <div className="form-foot">
          <button type="submit" className="btn primary" disabled={isSubmitting}>{isSubmitting ? 'Saving…' : editing ? 'Save changes' : 'Create user'}</button>
          <Link className="btn" to="/users">Cancel</Link>
        </div>
      </form>
      <ConfirmDialog open={confirmDelete} title={`Delete ${existing?.username}?`} confirm="Delete user" busy={remove.isPending} error={remove.error} onConfirm={() => remove.mutate()} onClose={() => setConfirmDelete(false)}>
        They can no longer sign in. Tokens already issued to them stay recorded until they expire.
      </ConfirmDialog>
    </div>
  )
}
