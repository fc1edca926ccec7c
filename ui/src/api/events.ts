// The live event stream (/admin/api/events, Server-Sent Events). `applyEvent` patches the
// query cache with each event's object (the yaak "model writes" pattern); `EventStream`
// wraps EventSource and reconnects. While the connection holds, EventSource itself resends
// `Last-Event-ID`; after a hard failure we open a new one with `?last_event_id=`, which the
// server treats the same way, so nothing is missed (or we get `resync` and refetch).

import type { QueryClient } from '@tanstack/react-query'
import { useEffect, useSyncExternalStore } from 'react'
import { apiBase } from './client'
import { CALLS_KEPT, keys, REQUEST_PAGE } from './queries'
import type {
  BrowserSession, Client, ClientDocument, DeviceCode, Envelope, LoggedRequest, Page, Resource, ResourceCall, ScopeView, Status, TokenDetail, TokenItem, TokenQuery, UserView,
} from './types'
import { itemFromRecord, liveState } from '../lib/tokenState'
import { applyClockOffset, serverNow } from '../lib/clock'

export const EVENT_TYPES = [
  'token.issued', 'token.introspected', 'token.revoked', 'token.consumed',
  'client.created', 'client.updated', 'client.deleted', 'client_document.fetched',
  'scope.created', 'scope.updated', 'scope.deleted',
  'user.created', 'user.updated', 'user.deleted',
  'resource.created', 'resource.updated', 'resource.deleted', 'resource.called', 'resource.checked',
  'key.rotated', 'settings.updated', 'trusted_issuers.updated', 'request.logged', 'clock.moved', 'server.reset',
  'config.reloaded', 'config.rejected',
  'device_code.created', 'device_code.updated', 'device_code.removed',
  'faults.changed', 'fault.fired', 'scenarios.changed', 'scenario.applied',
  'session.started', 'session.updated', 'session.ended', 'backchannel_logout.completed',
] as const

function matches(q: TokenQuery, t: TokenItem): boolean {
  if (q.client_id && q.client_id !== t.client_id) return false
  if (q.username && q.username !== t.username) return false
  if (q.grant_id && q.grant_id !== t.grant_id) return false
  if (q.kind && q.kind !== t.kind) return false
  if (q.status && q.status !== liveState(t, serverNow())) return false
  return true
}

function upsertBy<T>(list: T[] | undefined, item: T, key: (x: T) => string): T[] | undefined {
  if (!list) return list
  const i = list.findIndex((x) => key(x) === key(item))
  if (i === -1) return [...list, item]
  const next = list.slice()
  next[i] = item
  return next
}

/**
 * A list being fetched while an event arrives may have been read before the change: its
 * answer would overwrite the event's update with the older state. Fetch it again instead.
 * Returns whether it did.
 */
function refetchIfInFlight(qc: QueryClient, key: readonly unknown[]): boolean {
  const q = qc.getQueryCache().find({ queryKey: key, exact: true })
  if (q?.state.fetchStatus !== 'fetching') return false
  // A first load would only be joined by a refetch, not restarted: cancel it, then fetch anew.
  void qc.cancelQueries({ queryKey: key, exact: true }).then(() => qc.invalidateQueries({ queryKey: key, exact: true }))
  return true
}

function patchStatus(qc: QueryClient, f: (s: Status) => Status) {
  qc.setQueryData<Status>(keys.status, (s) => (s ? f(s) : s))
}

/** The list an event changes, for the in-flight check (token lists are handled per query). */
function listOf(env: Envelope): readonly unknown[] | null {
  switch (env.type) {
    case 'client.created': case 'client.updated': case 'client.deleted': return keys.clients
    case 'client_document.fetched': return keys.clientDocuments
    case 'scope.created': case 'scope.updated': case 'scope.deleted': return keys.scopes
    case 'user.created': case 'user.updated': case 'user.deleted': return keys.users
    case 'resource.created': case 'resource.updated': case 'resource.deleted': return keys.resources
    case 'request.logged': return keys.requests
    case 'device_code.created': case 'device_code.updated': case 'device_code.removed': return keys.deviceCodes
    case 'session.started': case 'session.updated': case 'session.ended': return keys.sessions
    default: return null
  }
}

/**
 * Applies one event to the cache. No network, except that a list whose fetch was in flight
 * is fetched again (its answer may predate the event).
 */
export function applyEvent(qc: QueryClient, env: Envelope): void {
  const list = listOf(env)
  if (list) refetchIfInFlight(qc, list)
  switch (env.type) {
    case 'token.issued': {
      const item = itemFromRecord(env.data)
      for (const [key, page] of qc.getQueriesData<Page<TokenItem>>({ queryKey: keys.tokens })) {
        const q = (key[2] ?? {}) as TokenQuery
        if (!matches(q, item)) continue
        if (refetchIfInFlight(qc, key)) continue
        if (!page || page.items.some((t) => t.id === item.id)) continue
        qc.setQueryData<Page<TokenItem>>(key, { ...page, items: [item, ...page.items] })
      }
      patchStatus(qc, (s) => ({
        ...s,
        counts: { ...s.counts, tokens: { ...s.counts.tokens, active: (s.counts.tokens.active ?? 0) + 1 } },
      }))
      break
    }
    case 'token.revoked': {
      const ids = new Set(env.data.ids)
      let wasActive = 0
      for (const [key, page] of qc.getQueriesData<Page<TokenItem>>({ queryKey: keys.tokens })) {
        refetchIfInFlight(qc, key)
        if (!page || !page.items.some((t) => ids.has(t.id))) continue
        const items = page.items.map((t) =>
          ids.has(t.id) ? { ...t, state: 'revoked' as const, status_reason: env.data.reason, status_at: Math.floor(env.at / 1000) } : t,
        )
        qc.setQueryData<Page<TokenItem>>(key, { ...page, items })
      }
      // A replay marks the token presented again (`replayed_at`), which no event carries:
      // fetch the grants it touched again (a grant is small).
      if (/replay|reused/i.test(env.data.reason)) {
        for (const [key, page] of qc.getQueriesData<Page<TokenItem>>({ queryKey: keys.tokens })) {
          const q = (key[2] ?? {}) as TokenQuery
          if (q.grant_id && page?.items.some((t) => ids.has(t.id))) void qc.invalidateQueries({ queryKey: key, exact: true })
        }
      }
      for (const id of ids) {
        const d = qc.getQueryData<TokenDetail>(keys.token(id))
        if (d?.record) {
          if (liveState(d.record, serverNow()) === 'active') wasActive++
          qc.setQueryData<TokenDetail>(keys.token(id), {
            ...d,
            record: { ...d.record, state: 'revoked', status_reason: env.data.reason },
          })
        }
        // The introspection answer and the reason come from the server: refetch the view.
        void qc.invalidateQueries({ queryKey: keys.token(id) })
      }
      if (wasActive === 0) void qc.invalidateQueries({ queryKey: keys.status })
      else
        patchStatus(qc, (s) => ({
          ...s,
          counts: {
            ...s.counts,
            tokens: {
              ...s.counts.tokens,
              active: Math.max(0, (s.counts.tokens.active ?? 0) - wasActive),
              revoked: (s.counts.tokens.revoked ?? 0) + ids.size,
            },
          },
        }))
      break
    }
    case 'token.consumed': {
      // An exchanged code or a rotated refresh token: update it where it is shown.
      const item = itemFromRecord(env.data)
      for (const [key, page] of qc.getQueriesData<Page<TokenItem>>({ queryKey: keys.tokens })) {
        refetchIfInFlight(qc, key)
        if (!page || !page.items.some((t) => t.id === item.id)) continue
        qc.setQueryData<Page<TokenItem>>(key, { ...page, items: page.items.map((t) => (t.id === item.id ? { ...t, ...item } : t)) })
      }
      const d = qc.getQueryData<TokenDetail>(keys.token(item.id))
      if (d?.record) {
        qc.setQueryData<TokenDetail>(keys.token(item.id), { ...d, record: { ...d.record, ...item } })
        void qc.invalidateQueries({ queryKey: keys.token(item.id) })
      }
      patchStatus(qc, (s) => ({
        ...s,
        counts: {
          ...s.counts,
          tokens: {
            ...s.counts.tokens,
            active: Math.max(0, (s.counts.tokens.active ?? 0) - 1),
            consumed: (s.counts.tokens.consumed ?? 0) + 1,
          },
        },
      }))
      break
    }
    case 'token.introspected':
      break
    case 'client.created':
    case 'client.updated': {
      const c = env.data
      qc.setQueryData<Client[]>(keys.clients, (l) => upsertBy(l, c, (x) => x.client_id))
      qc.setQueryData<Client>(keys.client(c.client_id), c)
      // Scopes list which clients may request them.
      void qc.invalidateQueries({ queryKey: keys.scopes })
      if (env.type === 'client.created') patchStatus(qc, (s) => ({ ...s, counts: { ...s.counts, clients: s.counts.clients + 1 } }))
      break
    }
    case 'client.deleted': {
      const id = env.data.client_id
      qc.setQueryData<Client[]>(keys.clients, (l) => l?.filter((c) => c.client_id !== id))
      qc.removeQueries({ queryKey: keys.client(id), exact: true })
      void qc.invalidateQueries({ queryKey: keys.scopes })
      patchStatus(qc, (s) => ({ ...s, counts: { ...s.counts, clients: Math.max(0, s.counts.clients - 1) } }))
      break
    }
    case 'client_document.fetched': {
      const d = env.data
      qc.setQueryData<ClientDocument[]>(keys.clientDocuments, (l) => {
        const next = upsertBy(l, d, (x) => x.url)
        return next?.slice().sort((a, b) => b.fetched_at - a.fetched_at || a.url.localeCompare(b.url))
      })
      break
    }
    case 'scope.created':
    case 'scope.updated': {
      const s = env.data
      qc.setQueryData<ScopeView[]>(keys.scopes, (l) => {
        if (!l) return l
        const prev = l.find((x) => x.name === s.name)
        return upsertBy(l, { ...s, builtin: s.builtin ?? false, clients: prev?.clients ?? [] }, (x) => x.name)
      })
      if (env.type === 'scope.created') patchStatus(qc, (st) => ({ ...st, counts: { ...st.counts, scopes: st.counts.scopes + 1 } }))
      break
    }
    case 'scope.deleted':
      qc.setQueryData<ScopeView[]>(keys.scopes, (l) => l?.filter((x) => x.name !== env.data.name))
      patchStatus(qc, (st) => ({ ...st, counts: { ...st.counts, scopes: Math.max(0, st.counts.scopes - 1) } }))
      break
    case 'user.created':
    case 'user.updated': {
      const u = env.data
      qc.setQueryData<UserView[]>(keys.users, (l) => {
        if (!l) return l
        const prev = l.find((x) => x.username === u.username)
        const view: UserView = {
          username: u.username, sub: u.sub ?? prev?.sub ?? null, claims: u.claims,
          has_password: prev?.has_password ?? false,
        }
        return upsertBy(l, view, (x) => x.username)
      })
      // Whether it has a password is not in the event.
      void qc.invalidateQueries({ queryKey: keys.users })
      if (env.type === 'user.created') patchStatus(qc, (s) => ({ ...s, counts: { ...s.counts, users: s.counts.users + 1 } }))
      break
    }
    case 'user.deleted':
      qc.setQueryData<UserView[]>(keys.users, (l) => l?.filter((x) => x.username !== env.data.username))
      qc.removeQueries({ queryKey: keys.user(env.data.username), exact: true })
      patchStatus(qc, (s) => ({ ...s, counts: { ...s.counts, users: Math.max(0, s.counts.users - 1) } }))
      break
    case 'resource.created':
    case 'resource.updated': {
      const r = env.data
      const prev = qc.getQueryData<Resource[]>(keys.resources)?.find((x) => x.name === r.name)
      // The event may carry the resource as configured, without the read-only URLs: keep them.
      const merged: Resource = { identifier: prev?.identifier, metadata_url: prev?.metadata_url, ...r }
      qc.setQueryData<Resource[]>(keys.resources, (l) => upsertBy(l, merged, (x) => x.name))
      qc.setQueryData<Resource>(keys.resource(r.name), (old) => ({ ...old, ...merged }))
      if (!merged.identifier) void qc.invalidateQueries({ queryKey: keys.resources })
      if (env.type === 'resource.created') patchStatus(qc, (s) => ({ ...s, counts: { ...s.counts, resources: s.counts.resources + 1 } }))
      break
    }
    case 'resource.deleted':
      qc.setQueryData<Resource[]>(keys.resources, (l) => l?.filter((x) => x.name !== env.data.name))
      qc.removeQueries({ queryKey: keys.resource(env.data.name), exact: true })
      patchStatus(qc, (s) => ({ ...s, counts: { ...s.counts, resources: Math.max(0, s.counts.resources - 1) } }))
      break
    case 'resource.called': {
      const c = env.data
      if (refetchIfInFlight(qc, keys.resourceCalls(c.resource))) break
      qc.setQueryData<ResourceCall[]>(keys.resourceCalls(c.resource), (l) => {
        if (!l || l.some((x) => x.id === c.id)) return l
        return [c, ...l].slice(0, CALLS_KEPT)
      })
      break
    }
    case 'resource.checked':
      // A check records nothing; whoever asked already has the verdict.
      break
    case 'key.rotated':
      void qc.invalidateQueries({ queryKey: keys.keys })
      // A rotation with a short retention turns live tokens key_retired: the counts change.
      void qc.invalidateQueries({ queryKey: keys.status })
      patchStatus(qc, (s) => ({ ...s, active_kid: env.data.kid, active_alg: env.data.alg }))
      break
    case 'settings.updated':
      qc.setQueryData(keys.settings, env.data)
      break
    case 'trusted_issuers.updated':
      qc.setQueryData(keys.trustedIssuers, env.data)
      break
    case 'faults.changed':
      qc.setQueryData(keys.faults, env.data.rules)
      break
    case 'fault.fired':
      // The counters changed (`faults.changed` is not sent for a firing).
      void qc.invalidateQueries({ queryKey: keys.faults })
      break
    case 'scenarios.changed':
    case 'scenario.applied':
      void qc.invalidateQueries({ queryKey: keys.scenarios })
      break
    case 'request.logged':
      // Call counts change with every request (fetched only while the Overview shows them).
      void qc.invalidateQueries({ queryKey: keys.stats })
      qc.setQueryData<Page<LoggedRequest>>(keys.requests, (p) => {
        if (!p || p.items.some((r) => r.id === env.data.id)) return p
        return { ...p, items: [env.data, ...p.items].slice(0, REQUEST_PAGE) }
      })
      break
    case 'clock.moved':
      applyClockOffset(env.data.offset)
      void qc.invalidateQueries({ queryKey: keys.clock })
      void qc.invalidateQueries({ queryKey: keys.status })
      // Live states and introspection answers depend on the clock.
      void qc.invalidateQueries({ queryKey: ['token'] })
      break
    case 'device_code.created':
    case 'device_code.updated': {
      const d = env.data
      qc.setQueryData<DeviceCode[]>(keys.deviceCodes, (l) => {
        if (!l) return l
        const rest = l.filter((x) => x.id !== d.id)
        return env.type === 'device_code.created' ? [d, ...rest] : l.map((x) => (x.id === d.id ? d : x))
      })
      break
    }
    case 'device_code.removed':
      qc.setQueryData<DeviceCode[]>(keys.deviceCodes, (l) => l?.filter((x) => x.id !== env.data.id))
      break
    case 'session.started':
    case 'session.updated':
    case 'session.ended': {
      // Live sessions first (most recently used first), then ended ones (most recently ended first).
      const s = env.data
      qc.setQueryData<BrowserSession[]>(keys.sessions, (l) => {
        if (!l) return l
        const rest = l.filter((x) => x.sid !== s.sid)
        const live = rest.filter((x) => !x.ended_at)
        const ended = rest.filter((x) => x.ended_at)
        return s.ended_at ? [...live, s, ...ended] : [s, ...live, ...ended]
      })
      break
    }
    case 'backchannel_logout.completed':
      // Its outcome also arrives on the session (`session.updated`).
      break
    case 'server.reset':
      // Back to the config file's state: every list may have changed, the clock is real time.
      applyClockOffset(0)
      resync(qc)
      break
    case 'config.reloaded':
      // The watched file was applied: any client, user, scope, resource or setting may have
      // changed (and the refused-file banner goes).
      resync(qc)
      break
    case 'config.rejected':
      // Nothing changed but the banner: it shows the file's errors until the file is fixed.
      patchStatus(qc, (s) => ({
        ...s,
        config: s.config
          ? { ...s.config, state: 'rejected', errors: env.data.errors, removed: [], at: env.at }
          : { file: env.data.errors[0]?.file ?? 'config file', mode: 'merge', watch: true, state: 'rejected', errors: env.data.errors, removed: [], at: env.at },
      }))
      break
  }
}

/** `resync`: the server could not replay what we missed; refetch everything. */
export function resync(qc: QueryClient): void {
  void qc.invalidateQueries()
}

export type ConnectionState = 'connecting' | 'live' | 'reconnecting'

export interface EventSourceLike {
  readyState: number
  onopen: ((ev: Event) => unknown) | null
  onerror: ((ev: Event) => unknown) | null
  addEventListener(type: string, listener: (ev: MessageEvent) => void): void
  close(): void
}

export interface StreamOptions {
  url: string
  onEvent: (env: Envelope) => void
  onResync: () => void
  create?: (url: string) => EventSourceLike
  /** Delays before reopening after a hard failure, in ms (the last one repeats). */
  backoff?: number[]
  setTimer?: (f: () => void, ms: number) => unknown
  clearTimer?: (t: unknown) => void
}

const CLOSED = 2

/** An EventSource that survives server restarts and hard failures. */
export class EventStream {
  state: ConnectionState = 'connecting'
  lastId: number | null = null
  private es: EventSourceLike | null = null
  private attempt = 0
  private timer: unknown = null
  private stopped = false
  private listeners = new Set<() => void>()
  private readonly o: Required<StreamOptions>

  constructor(o: StreamOptions) {
    this.o = {
      create: (url) => new EventSource(url),
      backoff: [500, 1000, 2000, 5000],
      setTimer: (f, ms) => setTimeout(f, ms),
      clearTimer: (t) => clearTimeout(t as ReturnType<typeof setTimeout>),
      ...o,
    }
  }

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l)
    return () => this.listeners.delete(l)
  }

  getState = (): ConnectionState => this.state

  private set(state: ConnectionState) {
    if (this.state === state) return
    this.state = state
    for (const l of this.listeners) l()
  }

  start(): void {
    this.stopped = false
    this.open()
  }

  stop(): void {
    this.stopped = true
    if (this.timer !== null) this.o.clearTimer(this.timer)
    this.timer = null
    this.es?.close()
    this.es = null
  }

  private open() {
    const url = this.lastId === null ? this.o.url : `${this.o.url}?last_event_id=${this.lastId}`
    const es = this.o.create(url)
    this.es = es
    es.onopen = () => {
      this.attempt = 0
      this.set('live')
    }
    es.onerror = () => {
      if (this.stopped || this.es !== es) return
      this.set('reconnecting')
      // CONNECTING: the browser retries by itself (sending Last-Event-ID). CLOSED: it gave up.
      if (es.readyState === CLOSED) {
        es.close()
        const delays = this.o.backoff
        const ms = delays[Math.min(this.attempt, delays.length - 1)]
        this.attempt++
        this.timer = this.o.setTimer(() => {
          this.timer = null
          if (!this.stopped) this.open()
        }, ms)
      }
    }
    for (const type of EVENT_TYPES) {
      es.addEventListener(type, (ev) => this.handle(ev))
    }
    es.addEventListener('resync', () => this.o.onResync())
  }

  private handle(ev: MessageEvent) {
    let env: Envelope
    try {
      env = JSON.parse(String(ev.data)) as Envelope
    } catch {
      return
    }
    if (typeof env.id === 'number') {
      if (this.lastId !== null && env.id <= this.lastId) return // already applied (replay overlap)
      this.lastId = env.id
    }
    this.set('live')
    this.o.onEvent(env)
  }
}

let current: EventStream | null = null

/** Opens the stream for the app's lifetime and applies events to `qc`. */
export function useEventStream(qc: QueryClient): void {
  useEffect(() => {
    const s = new EventStream({
      url: `${apiBase()}/events`,
      onEvent: (env) => applyEvent(qc, env),
      onResync: () => resync(qc),
    })
    current = s
    const off = s.subscribe(notify)
    s.start()
    notify()
    return () => {
      off()
      s.stop()
      if (current === s) current = null
    }
  }, [qc])
}

const hookListeners = new Set<() => void>()
function notify() {
  for (const l of hookListeners) l()
}

/** The connection state of the app's stream, for the status indicator. */
export function useConnectionState(): ConnectionState {
  return useSyncExternalStore(
    (l) => {
      hookListeners.add(l)
      return () => hookListeners.delete(l)
    },
    () => current?.getState() ?? 'connecting',
  )
}
