// Query keys and hooks. Pages read data only through these; the event stream (events.ts)
// keeps the same cache entries up to date, so nothing polls.

import { useQuery } from '@tanstack/react-query'
import { useMemo } from 'react'
import { api } from './client'
import type { TokenQuery } from './types'
import { syncServerClock } from '../lib/clock'
import { keyRing, type KeyRing } from '../lib/tokenState'

export const keys = {
  status: ['status'] as const,
  discovery: ['discovery'] as const,
  clients: ['clients'] as const,
  clientDocuments: ['client-documents'] as const,
  client: (id: string) => ['clients', id] as const,
  scopes: ['scopes'] as const,
  users: ['users'] as const,
  user: (name: string) => ['users', name] as const,
  tokens: ['tokens'] as const,
  tokenList: (q: TokenQuery) => ['tokens', 'list', q] as const,
  token: (id: string) => ['token', id] as const,
  requests: ['requests'] as const,
  resources: ['resources'] as const,
  resource: (name: string) => ['resources', 'one', name] as const,
  resourceProfiles: ['resource-profiles'] as const,
  resourceCalls: (name: string) => ['resource-calls', name] as const,
  keys: ['keys'] as const,
  settings: ['settings'] as const,
  trustedIssuers: ['trusted-issuers'] as const,
  clock: ['clock'] as const,
  deviceCodes: ['device-codes'] as const,
  sessions: ['sessions'] as const,
  faults: ['faults'] as const,
  stats: ['stats'] as const,
  scenarios: ['scenarios'] as const,
}

export const TOKEN_PAGE = 200
export const REQUEST_PAGE = 300
/** Calls kept per resource in the UI (the newest first). */
export const CALLS_KEPT = 100

export const useStatus = () => useQuery({ queryKey: keys.status, queryFn: api.status })
export const useDiscovery = () => useQuery({ queryKey: keys.discovery, queryFn: api.discovery, staleTime: 60_000 })
export const useClients = () => useQuery({ queryKey: keys.clients, queryFn: api.clients })
/** Client ID Metadata Documents fetched (kept current by `client_document.fetched`). */
export const useClientDocuments = () => useQuery({ queryKey: keys.clientDocuments, queryFn: api.clientDocuments })
export const useScopes = () => useQuery({ queryKey: keys.scopes, queryFn: api.scopes })
export const useUsers = () => useQuery({ queryKey: keys.users, queryFn: api.users })
export const useResources = () => useQuery({ queryKey: keys.resources, queryFn: api.resources })
export const useResourceProfiles = () =>
  useQuery({ queryKey: keys.resourceProfiles, queryFn: api.resourceProfiles, staleTime: Infinity })
export const useResourceCalls = (name: string) =>
  useQuery({ queryKey: keys.resourceCalls(name), queryFn: () => api.resourceCalls(name) })
/** Live device authorization requests (kept current by the `device_code.*` events). */
export const useDeviceCodes = () => useQuery({ queryKey: keys.deviceCodes, queryFn: api.deviceCodes })
/** Browser sessions, live and recently ended (kept current by the `session.*` events). */
export const useSessions = () => useQuery({ queryKey: keys.sessions, queryFn: api.sessions })
export const useKeys = () => useQuery({ queryKey: keys.keys, queryFn: api.keys })
/** Which keys are in the JWKS, for live token states (refetched on `key.rotated`). */
export function useKeyRing(): KeyRing {
  const { data } = useKeys()
  return useMemo(() => keyRing(data), [data])
}
export const useFaults = () => useQuery({ queryKey: keys.faults, queryFn: api.faults })
export const useStats = () => useQuery({ queryKey: keys.stats, queryFn: api.stats })
export const useScenarios = () => useQuery({ queryKey: keys.scenarios, queryFn: api.scenarios })
export const useSettings = () => useQuery({ queryKey: keys.settings, queryFn: api.settings })
export const useTrustedIssuers = () => useQuery({ queryKey: keys.trustedIssuers, queryFn: api.trustedIssuers })
/**
 * A token list. Structural sharing is off: the event stream replaces the list on every token
 * event, and comparing thousands of loaded tokens deeply each time costs more than it saves
 * (rows are keyed by id and re-render cheaply).
 */
export const useTokens = (q: TokenQuery) =>
  useQuery({ queryKey: keys.tokenList(q), queryFn: () => api.tokens({ ...q, limit: TOKEN_PAGE }), structuralSharing: false })
/** Every token of one grant (its lineage), kept up to date by the event stream. */
export const GRANT_KEPT = 2000
export const useGrant = (grant_id: string | null | undefined) =>
  useQuery({
    queryKey: keys.tokenList({ grant_id: grant_id ?? '' }),
    enabled: !!grant_id,
    structuralSharing: false,
    queryFn: async () => {
      const first = await api.tokens({ grant_id: grant_id ?? '', limit: 500 })
      const items = [...first.items]
      let cursor = first.next_cursor
      while (cursor !== null && items.length < GRANT_KEPT) {
        const next = await api.tokens({ grant_id: grant_id ?? '', limit: 500, cursor })
        items.push(...next.items)
        cursor = next.next_cursor
      }
      return { items, next_cursor: cursor }
    },
  })
export const useToken = (id: string) => useQuery({ queryKey: keys.token(id), queryFn: () => api.token(id) })
export const useRequests = () =>
  useQuery({ queryKey: keys.requests, queryFn: () => api.requests({ limit: REQUEST_PAGE }) })

/** The server clock; each reading also re-syncs the browser's estimate of it. */
export const useClock = () =>
  useQuery({
    queryKey: keys.clock,
    queryFn: async () => {
      const sent = Date.now()
      const c = await api.clock()
      syncServerClock(c.now, c.offset, sent)
      return c
    },
  })
