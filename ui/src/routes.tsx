import type { QueryClient } from '@tanstack/react-query'
import type { RouteObject } from 'react-router'
import { Layout } from './Layout'
import { Overview } from './pages/Overview'
import { ClientsPage } from './pages/Clients'
import { ClientEditPage } from './pages/ClientEdit'
import { ScopesPage } from './pages/Scopes'
import { UsersPage } from './pages/Users'
import { UserEditPage } from './pages/UserEdit'
import { TokensPage } from './pages/Tokens'
import { TokenPage } from './pages/Token'
import { InspectPage } from './pages/Inspect'
import { RequestsPage } from './pages/Requests'
import { KeysPage } from './pages/Keys'
import { SettingsPage } from './pages/Settings'
import { NotFound } from './pages/NotFound'

export function routes(qc: QueryClient): RouteObject[] {
  return [
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
        { path: 'tokens', element: <TokensPage /> },
        { path: 'tokens/inspect', element: <InspectPage /> },
        { path: 'tokens/:id', element: <TokenPage /> },
        { path: 'requests', element: <RequestsPage /> },
        { path: 'keys', element: <KeysPage /> },
        { path: 'settings', element: <SettingsPage /> },
        { path: '*', element: <NotFound /> },
      ],
    },
  ]
}
