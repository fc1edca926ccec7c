import type { QueryClient } from '@tanstack/react-query'
import { Activity, Boxes, Coins, Gauge, KeyRound, ScanSearch, Settings, ShieldCheck, Tags, Users } from 'lucide-react'
import { Suspense, useEffect, type ReactNode } from 'react'
import { NavLink, Outlet, ScrollRestoration, useLocation } from 'react-router'
import { useConnectionState, useEventStream } from './api/events'
import { useClock, useStatus } from './api/queries'
import { ToastProvider } from './components/toast'
import { formatDuration } from './lib/format'
import { clockOffset } from './lib/clock'

function Logo() {
  return (
    <svg width="16" height="16" viewBox="0 0 32 32" aria-hidden="true">
      <circle cx="11" cy="16" r="6" fill="none" stroke="currentColor" strokeWidth="3.4" />
      <path d="M17 16h11m-4 0v5m-4-5v4" stroke="currentColor" strokeWidth="3.4" strokeLinecap="round" fill="none" />
    </svg>
  )
}

function Item({ to, icon, children, count, end }: { to: string; icon: ReactNode; children: ReactNode; count?: number; end?: boolean }) {
  return (
    <NavLink to={to} end={end} className={({ isActive }) => `nav-link ${isActive ? 'active' : ''}`}>
      {icon}
      <span>{children}</span>
      {count !== undefined && <span className="nav-count">{count}</span>}
    </NavLink>
  )
}

const TITLES: Record<string, string> = {
  '': 'Overview', clients: 'Clients', scopes: 'Scopes', users: 'Users', tokens: 'Tokens',
  requests: 'Requests', keys: 'Keys', settings: 'Settings', resources: 'Resources',
}

export function Layout({ queryClient }: { queryClient: QueryClient }) {
  useEventStream(queryClient)
  useClock()
  const conn = useConnectionState()
  const status = useStatus()
  const c = status.data?.counts
  const loc = useLocation()
  const section = loc.pathname.split('/')[1] ?? ''
  useEffect(() => {
    document.title = `${TITLES[section] ?? 'Latchkey'} · Latchkey`
  }, [section])
  const offset = status.data?.clock.offset ?? clockOffset()
  const s = 18
  return (
    <ToastProvider>
      <a href="#main" className="skip btn">Skip to content</a>
      <div className="app">
        <nav className="sidebar" aria-label="Main">
          <div className="brand">
            <div className="brand-logo"><Logo /></div>
            <div>
              <div className="brand-name">Latchkey</div>
              <div className="brand-sub">{status.data ? `v${status.data.version} · local OAuth/OIDC` : 'local OAuth/OIDC'}</div>
            </div>
          </div>
          <Item to="/" end icon={<Gauge size={s} />}>Overview</Item>
          <div className="nav-section">Registry</div>
          <Item to="/clients" icon={<Boxes size={s} />} count={c?.clients}>Clients</Item>
          <Item to="/scopes" icon={<Tags size={s} />} count={c?.scopes}>Scopes</Item>
          <Item to="/users" icon={<Users size={s} />} count={c?.users}>Users</Item>
          <Item to="/resources" icon={<ShieldCheck size={s} />} count={c?.resources}>Resources</Item>
          <div className="nav-section">Live</div>
          <Item to="/tokens" end icon={<Coins size={s} />} count={c?.tokens.active}>Tokens</Item>
          <Item to="/tokens/inspect" icon={<ScanSearch size={s} />}>Inspect a token</Item>
          <Item to="/requests" icon={<Activity size={s} />}>Requests</Item>
          <div className="nav-section">Server</div>
          <Item to="/keys" icon={<KeyRound size={s} />}>Keys</Item>
          <Item to="/settings" icon={<Settings size={s} />}>Settings</Item>
          <div className="sidebar-foot">
            <span className="live" data-testid="connection" data-state={conn} title="The live event stream from the server">
              <span className={`dot ${conn}`} />
              {conn === 'live' ? 'Live' : conn === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'}
            </span>
            {offset !== 0 && (
              <span className="live" title="The server's virtual clock is shifted">
                <span className="dot reconnecting" /> Clock {offset > 0 ? '+' : '−'}{formatDuration(offset)}
              </span>
            )}
          </div>
        </nav>
        <main className="main" id="main">
          {/* Pages other than the overview load on first visit (routes.tsx). Navigations are
              transitions, so the current page stays until the next one is ready; the empty
              page only shows when the app opens on such a page. */}
          <Suspense fallback={<div className="page" aria-busy="true" />}>
            <Outlet />
          </Suspense>
        </main>
      </div>
      {/* A new page starts at the top; back and forward return to where you were. */}
      <ScrollRestoration />
    </ToastProvider>
  )
}
