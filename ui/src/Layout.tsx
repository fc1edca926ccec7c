import type { QueryClient } from '@tanstack/react-query'
import { Activity, Boxes, Clock, Coins, Gauge, KeyRound, MonitorSmartphone, UserCheck, PanelLeftClose, PanelLeftOpen, ScanSearch, Settings, ShieldCheck, Tags, Users, Zap } from 'lucide-react'
import { Suspense, useEffect, useState, type ReactNode } from 'react'
import { NavLink, Outlet, ScrollRestoration, useLocation, useNavigate } from 'react-router'
import { useConnectionState, useEventStream } from './api/events'
import { useClock, useFaults, useStatus } from './api/queries'
import { FaultBanner } from './components/FaultBanner'
import { ToastProvider } from './components/toast'
import { ClockBanner, CLOCK_BANNER_ID, offsetText } from './components/ClockBanner'
import { ConfigBanner } from './components/ConfigBanner'
import { useClockOffset } from './lib/clock'

const COLLAPSED_KEY = 'latchkey:sidebar-collapsed'

function Logo() {
  return (
    <svg width="16" height="16" viewBox="0 0 32 32" aria-hidden="true">
      <circle cx="11" cy="16" r="6" fill="none" stroke="currentColor" strokeWidth="3.4" />
      <path d="M17 16h11m-4 0v5m-4-5v4" stroke="currentColor" strokeWidth="3.4" strokeLinecap="round" fill="none" />
    </svg>
  )
}

function Item({ to, icon, children, count, end }: { to: string; icon: ReactNode; children: string; count?: number; end?: boolean }) {
  return (
    <NavLink to={to} end={end} className={({ isActive }) => `nav-link ${isActive ? 'active' : ''}`} title={children}>
      {icon}
      <span className="nav-text">{children}</span>
      {count !== undefined && <span className="nav-count">{count}</span>}
    </NavLink>
  )
}

const TITLES: Record<string, string> = {
  '': 'Overview', clients: 'Clients', scopes: 'Scopes', users: 'Users', tokens: 'Tokens',
  requests: 'Requests', keys: 'Keys', settings: 'Settings', resources: 'Resources', devices: 'Devices', faults: 'Faults', sessions: 'Sessions',
}

export function Layout({ queryClient }: { queryClient: QueryClient }) {
  useEventStream(queryClient)
  useClock()
  const conn = useConnectionState()
  const status = useStatus()
  const faults = useFaults()
  const activeFaults = faults.data?.filter((r) => r.active).length
  const c = status.data?.counts
  const loc = useLocation()
  const section = loc.pathname.split('/')[1] ?? ''
  useEffect(() => {
    document.title = `${TITLES[section] ?? 'Latchkey'} · Latchkey`
  }, [section])
  const offset = useClockOffset()
  const navigate = useNavigate()
  const [collapsed, setCollapsed] = useState(() => localStorage.getItem(COLLAPSED_KEY) === '1')
  const toggle = () => {
    localStorage.setItem(COLLAPSED_KEY, collapsed ? '0' : '1')
    setCollapsed(!collapsed)
  }
  // The sidebar's clock indicator leads to the banner's controls (or the Settings page's
  // clock panel when the clock is not shifted).
  const toClock = () => {
    const banner = document.getElementById(CLOCK_BANNER_ID)
    if (!banner) {
      navigate('/settings#clock')
      return
    }
    window.scrollTo({ top: 0 })
    banner.querySelector<HTMLElement>('[data-testid="clock-reset"]')?.focus()
  }
  const s = 18
  return (
    <ToastProvider>
      <a href="#main" className="skip btn">Skip to content</a>
      <div className={`app ${collapsed ? 'collapsed' : ''}`}>
        <nav className="sidebar" aria-label="Main">
          <div className="brand">
            <div className="brand-logo"><Logo /></div>
            <div className="brand-text">
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
          <Item to="/sessions" icon={<UserCheck size={s} />}>Sessions</Item>
          <Item to="/devices" icon={<MonitorSmartphone size={s} />}>Devices</Item>
          <Item to="/faults" icon={<Zap size={s} />} count={activeFaults || undefined}>Faults</Item>
          <div className="nav-section">Server</div>
          <Item to="/keys" icon={<KeyRound size={s} />}>Keys</Item>
          <Item to="/settings" icon={<Settings size={s} />}>Settings</Item>
          <div className="sidebar-foot">
            <button
              type="button"
              className={`clock-indicator ${offset !== 0 ? 'shifted' : ''}`}
              data-testid="clock-indicator"
              onClick={toClock}
              title={offset !== 0 ? 'The server clock is shifted: show the controls' : 'The server clock runs at real time: open its controls'}
            >
              <Clock size={14} aria-hidden="true" />
              <span className="nav-text">{offset !== 0 ? `Clock ${offsetText(offset)}` : 'Clock: real time'}</span>
            </button>
            <span className="live" data-testid="connection" data-state={conn} title="The live event stream from the server">
              <span className={`dot ${conn}`} />
              <span className="nav-text">{conn === 'live' ? 'Live' : conn === 'reconnecting' ? 'Reconnecting…' : 'Connecting…'}</span>
            </span>
            <button type="button" className="btn ghost sm collapse-toggle" onClick={toggle} aria-expanded={!collapsed} aria-label={collapsed ? 'Expand the sidebar' : 'Collapse the sidebar'} title={collapsed ? 'Expand the sidebar' : 'Collapse the sidebar'}>
              {collapsed ? <PanelLeftOpen size={15} /> : <PanelLeftClose size={15} />}
              <span className="nav-text">Collapse</span>
            </button>
          </div>
        </nav>
        <main className="main" id="main">
          <div className="banners">
            <ConfigBanner />
            <FaultBanner />
            <ClockBanner />
          </div>
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
