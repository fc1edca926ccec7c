import type { QueryClient } from '@tanstack/react-query'
import { lazy, Suspense, type ComponentType } from 'react'
import type { RouteObject } from 'react-router'
import { Layout } from './Layout'
import { Overview } from './pages/Overview'
import { NotFound } from './pages/NotFound'

const RELOADED = 'latchkey:chunk-reload'

/**
 * A page loaded on first visit, so the first download is the shell and the overview only.
 * A chunk that fails to load is most likely an old tab after a rebuild (the hashed file is
 * gone): reload once to get the new shell instead of showing an error.
 */
function page<M>(load: () => Promise<M>, pick: (m: M) => ComponentType) {
  return lazy(() =>
    load().then(
      (m) => {
        sessionStorage.removeItem(RELOADED)
        return { default: pick(m) }
      },
      (e: unknown) => {
        if (sessionStorage.getItem(RELOADED)) throw e
        sessionStorage.setItem(RELOADED, '1')
        location.reload()
        return new Promise<never>(() => {})
      },
    ),
  )
}

const ClientsPage = page(() => import('./pages/Clients'), (m) => m.ClientsPage)
const ClientEditPage = page(() => import('./pages/ClientEdit'), (m) => m.ClientEditPage)
const ScopesPage = page(() => import('./pages/Scopes'), (m) => m.ScopesPage)
const UsersPage = page(() => import('./pages/Users'), (m) => m.UsersPage)
const UserEditPage = page(() => import('./pages/UserEdit'), (m) => m.UserEditPage)
const TokensPage = page(() => import('./pages/Tokens'), (m) => m.TokensPage)
const TokenPage = page(() => import('./pages/Token'), (m) => m.TokenPage)
const InspectPage = page(() => import('./pages/Inspect'), (m) => m.InspectPage)
const RequestsPage = page(() => import('./pages/Requests'), (m) => m.RequestsPage)
const ResourcesPage = page(() => import('./pages/Resources'), (m) => m.ResourcesPage)
const ResourcePage = page(() => import('./pages/Resource'), (m) => m.ResourcePage)
const ResourceEditPage = page(() => import('./pages/ResourceEdit'), (m) => m.ResourceEditPage)
const DevicesPage = page(() => import('./pages/Devices'), (m) => m.DevicesPage)
const SessionsPage = page(() => import('./pages/Sessions'), (m) => m.SessionsPage)
const KeysPage = page(() => import('./pages/Keys'), (m) => m.KeysPage)
const CallbackPage = page(() => import('./pages/Callback'), (m) => m.CallbackPage)
const SettingsPage = page(() => import('./pages/Settings'), (m) => m.SettingsPage)
const FaultsPage = page(() => import('./pages/Faults'), (m) => m.FaultsPage)

export function routes(qc: QueryClient): RouteObject[] {
  return [
    // Where "Try the login" returns: a page of its own, without the app's chrome.
    { path: '/callback', element: <Suspense fallback={null}><CallbackPage /></Suspense> },
    {
      path: '/',
      element: <Layout queryClient={qc} />,
      children: [
        { index: true, element: <Overview /> },
        { path: 'clients', element: <ClientsPage /> },
        { path: 'clients/new', element: <ClientEditPage /> },
        { path: 'clients/:id', element: <ClientEditPage /> },
        { path: 'scopes', element: <ScopesPage /> },
        { path: 'users', element: <UsersPage /> },
        { path: 'users/new', element: <UserEditPage /> },
        { path: 'users/:name', element: <UserEditPage /> },
        { path: 'resources', element: <ResourcesPage /> },
        { path: 'resources/new', element: <ResourceEditPage /> },
        { path: 'resources/:name', element: <ResourcePage /> },
        { path: 'resources/:name/edit', element: <ResourceEditPage /> },
        { path: 'tokens', element: <TokensPage /> },
        { path: 'tokens/inspect', element: <InspectPage /> },
        { path: 'tokens/:id', element: <TokenPage /> },
        { path: 'requests', element: <RequestsPage /> },
        { path: 'devices', element: <DevicesPage /> },
        { path: 'sessions', element: <SessionsPage /> },
        { path: 'keys', element: <KeysPage /> },
        { path: 'settings', element: <SettingsPage /> },
        { path: 'faults', element: <FaultsPage /> },
        { path: '*', element: <NotFound /> },
      ],
    },
  ]
}
