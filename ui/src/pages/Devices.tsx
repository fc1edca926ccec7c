// Device authorization requests (RFC 8628) waiting for a user: each with its user code, a QR
// code of verification_uri_complete (scan it with a phone to open the verification page), and
// buttons to approve as a persona or deny, as a headless test would through the admin API.
// Live: the `device_code.*` events keep the list current.

import { useMutation } from '@tanstack/react-query'
import { Check, MonitorSmartphone, X } from 'lucide-react'
import { useState } from 'react'
import { Link } from 'react-router'
import { api } from '../api/client'
import { useDeviceCodes, useDiscovery, useUsers } from '../api/queries'
import type { DeviceCode } from '../api/types'
import { QrCode } from '../components/QrCode'
import { useToast } from '../components/toast'
import { CopyButton, EmptyState, ErrorBox, Loading, PageHeader } from '../components/ui'
import { useServerNow } from '../lib/clock'
import { relative } from '../lib/format'
import './devices.css'

const STATUS: Record<DeviceCode['status'], { label: string; cls: string }> = {
  pending: { label: 'pending', cls: 'info' },
  approved: { label: 'approved', cls: 'active' },
  denied: { label: 'denied', cls: 'revoked' },
  used: { label: 'tokens issued', cls: 'consumed' },
}

function DeviceCard({ d, now }: { d: DeviceCode; now: number }) {
  const users = useUsers()
  const toast = useToast()
  const [who, setWho] = useState('')
  const username = who || users.data?.[0]?.username || ''
  const approve = useMutation({
    mutationFn: () => api.approveDeviceCode(d.user_code, username),
    onSuccess: () => toast(`${d.user_code} approved as ${username}`),
  })
  const deny = useMutation({
    mutationFn: () => api.denyDeviceCode(d.user_code),
    onSuccess: () => toast(`${d.user_code} denied`),
  })
  const s = STATUS[d.status]
  const busy = approve.isPending || deny.isPending
  return (
    <article className="device" data-testid={`device-${d.user_code}`} aria-label={`Device code ${d.user_code}`}>
      <QrCode text={d.verification_uri_complete} label={`QR code of ${d.verification_uri_complete}`} />
      <div className="device-body">
        <div className="device-head">
          <span className="device-code" data-testid="device-code">{d.user_code}</span>
          <span className={`badge plain ${s.cls}`} data-testid="device-status" data-status={d.status}>{s.label}</span>
        </div>
        <div>
          <Link to={`/clients/${encodeURIComponent(d.client_id)}`}><strong>{d.client_name}</strong></Link>
          {d.client_name !== d.client_id && <span className="muted mono small"> {d.client_id}</span>}
        </div>
        <div className="chips">{d.scope ? d.scope.split(' ').map((x) => <span key={x} className="tag">{x}</span>) : <span className="faint">no scopes</span>}</div>
        <div className="device-meta">
          <span>expires {relative(d.expires_at, now)}</span>
          <span>polls every {d.interval} s</span>
          <span>{d.last_poll ? `last poll ${relative(d.last_poll, now)}` : 'not polled yet'}</span>
          {d.username && <span>by <Link to={`/users/${encodeURIComponent(d.username)}`}>{d.username}</Link></span>}
        </div>
        <div className="device-actions">
          {d.status === 'pending' ? (
            <>
              <label className="sr-only" htmlFor={`as-${d.id}`}>Approve as</label>
              <select id={`as-${d.id}`} className="input" value={username} onChange={(e) => setWho(e.target.value)} data-testid="device-approve-as" disabled={!users.data?.length}>
                {users.data?.map((u) => <option key={u.username} value={u.username}>{u.username}</option>)}
              </select>
              <button type="button" className="btn primary sm" disabled={busy || !username} onClick={() => approve.mutate()} data-testid="device-approve">
                <Check size={14} /> Approve
              </button>
              <button type="button" className="btn sm" disabled={busy} onClick={() => deny.mutate()} data-testid="device-deny">
                <X size={14} /> Deny
              </button>
            </>
          ) : d.status === 'used' ? (
            <Link className="btn sm ghost" to={`/tokens?grant_id=${encodeURIComponent(d.id)}`}>Its tokens</Link>
          ) : null}
          <CopyButton small text={d.verification_uri_complete} label="Copy link" title="Copy verification_uri_complete" />
        </div>
        {(approve.error || deny.error) && <ErrorBox error={approve.error ?? deny.error} title="Not changed" />}
      </div>
    </article>
  )
}

export function DevicesPage() {
  const { data, error, isPending } = useDeviceCodes()
  const discovery = useDiscovery()
  const now = useServerNow()
  const live = (data ?? []).filter((d) => d.expires_at > now)
  const endpoint = discovery.data?.device_authorization_endpoint ?? '/device_authorization'
  return (
    <div className="page">
      <PageHeader
        title="Devices"
        sub="Device authorization requests (RFC 8628) from TVs, CLIs and other devices without a browser. The user scans the QR code or enters the code on the verification page; here you can approve as a persona or deny, as a test would with the admin API."
      />
      {error && <ErrorBox error={error} title="Could not load the device codes" />}
      {isPending ? <Loading /> : live.length === 0 ? (
        <EmptyState icon={<MonitorSmartphone size={22} />} title="No device is waiting">
          <p>Requests appear here live as devices ask for a code. Start one for a client that has the <code>urn:ietf:params:oauth:grant-type:device_code</code> grant:</p>
          <pre className="mono small" data-testid="device-example">{`curl -d client_id=CLIENT_ID -d scope=openid ${endpoint}`}</pre>
        </EmptyState>
      ) : (
        <div className="devices" data-testid="device-list">
          {live.map((d) => <DeviceCard key={d.id} d={d} now={now} />)}
        </div>
      )}
    </div>
  )
}
