// The lineage of a grant: where each token came from and what came of it. The admin API
// gives every token of a grant (`?grant_id=`), each with `parent_id` (the code or refresh token
// it was issued from); this builds the tree the token page shows, and finds the replays.

import type { TokenItem, TokenKind } from '../api/types'

export interface LineageNode {
  token: TokenItem
  children: LineageNode[]
  /** Depth from its root (0 for a root). */
  depth: number
}

/** A used-up code or refresh token presented again, and what its replay revoked. */
export interface Replay {
  /** The token presented again. */
  token: TokenItem
  /** When (UNIX seconds). */
  at: number
  /** The tokens of the grant revoked by it (revoked at that moment, for that reason). */
  revoked: TokenItem[]
  /** Why they were revoked, as recorded (for instance `rotated refresh token reused`). */
  reason: string | null
}

export interface Lineage {
  roots: LineageNode[]
  replays: Replay[]
  /** When the grant started (the earliest `issued_at`). */
  startedAt: number
  /** Tokens whose `parent_id` names a token missing from the list (shown as roots). */
  orphans: string[]
  size: number
}

/** Siblings issued at the same moment read code → access → id → refresh: the refresh token last, so its own subtree follows. */
const KIND_ORDER: Record<TokenKind, number> = { authorization_code: 0, access_token: 1, id_token: 2, refresh_token: 3 }

function byIssue(a: LineageNode, b: LineageNode): number {
  return a.token.issued_at - b.token.issued_at || KIND_ORDER[a.token.kind] - KIND_ORDER[b.token.kind] || a.token.id.localeCompare(b.token.id)
}

const REPLAY_REASON = /replay|reused/i

/** Builds the tree of one grant's tokens (any order, duplicates ignored). */
export function buildLineage(tokens: TokenItem[]): Lineage {
  const byId = new Map<string, LineageNode>()
  for (const t of tokens) if (!byId.has(t.id)) byId.set(t.id, { token: t, children: [], depth: 0 })
  const roots: LineageNode[] = []
  const orphans: string[] = []
  for (const node of byId.values()) {
    const pid = node.token.parent_id
    const parent = pid && pid !== node.token.id ? byId.get(pid) : undefined
    if (parent && !descendsFrom(parent, node, byId)) parent.children.push(node)
    else {
      if (pid && !parent) orphans.push(node.token.id)
      roots.push(node)
    }
  }
  const setDepth = (n: LineageNode, d: number) => {
    n.depth = d
    n.children.sort(byIssue)
    for (const c of n.children) setDepth(c, d + 1)
  }
  roots.sort(byIssue)
  for (const r of roots) setDepth(r, 0)

  const all = [...byId.values()].map((n) => n.token)
  const replays: Replay[] = all
    .filter((t) => typeof t.replayed_at === 'number')
    .map((t) => {
      const at = t.replayed_at as number
      const revoked = all.filter((x) => x.state === 'revoked' && x.status_at === at && x.id !== t.id && (!x.status_reason || REPLAY_REASON.test(x.status_reason)))
      revoked.sort((a, b) => a.issued_at - b.issued_at || KIND_ORDER[a.kind] - KIND_ORDER[b.kind])
      return { token: t, at, revoked, reason: revoked[0]?.status_reason ?? null }
    })
    .sort((a, b) => a.at - b.at)
  return {
    roots,
    replays,
    startedAt: all.length ? Math.min(...all.map((t) => t.issued_at)) : 0,
    orphans,
    size: byId.size,
  }
}

/** Whether `ancestor` already descends from `node` (a cycle in bad data: keep `node` a root). */
function descendsFrom(ancestor: LineageNode, node: LineageNode, byId: Map<string, LineageNode>): boolean {
  const seen = new Set<string>()
  let cur: LineageNode | undefined = ancestor
  while (cur && !seen.has(cur.token.id)) {
    if (cur === node) return true
    seen.add(cur.token.id)
    const pid: string | null = cur.token.parent_id
    cur = pid ? byId.get(pid) : undefined
  }
  return false
}

/** The tree in reading order (depth first), for a flat rendering. */
export function flatten(l: Lineage): LineageNode[] {
  const out: LineageNode[] = []
  const walk = (n: LineageNode) => {
    out.push(n)
    for (const c of n.children) walk(c)
  }
  for (const r of l.roots) walk(r)
  return out
}

/** The chain from the root to `id` (the token itself last), for "where it came from". */
export function pathTo(l: Lineage, id: string): TokenItem[] {
  const path: TokenItem[] = []
  const walk = (n: LineageNode): boolean => {
    path.push(n.token)
    if (n.token.id === id) return true
    for (const c of n.children) if (walk(c)) return true
    path.pop()
    return false
  }
  for (const r of l.roots) if (walk(r)) return path
  return []
}

/** How many refreshes the grant went through (refresh-grant steps: tokens issued from a refresh token). */
export function refreshCount(l: Lineage): number {
  const parents = new Set<string>()
  for (const n of flatten(l)) if (n.token.grant_type === 'refresh_token' && n.token.parent_id) parents.add(n.token.parent_id)
  return parents.size
}

/** How a grant is named for people: its type and, for a family, the code or first token. */
export function grantLabel(grantType: string): string {
  switch (grantType) {
    case 'authorization_code': return 'Authorization code'
    case 'refresh_token': return 'Refresh'
    case 'client_credentials': return 'Client credentials'
    case 'password': return 'Password'
    case 'implicit': return 'Implicit / hybrid'
    case 'admin': return 'Minted by the admin'
    case 'urn:ietf:params:oauth:grant-type:device_code': return 'Device authorization'
    case 'urn:ietf:params:oauth:grant-type:token-exchange': return 'Token exchange'
    case 'urn:ietf:params:oauth:grant-type:jwt-bearer': return 'JWT bearer (RFC 7523)'
    default: return grantType.replace(/_/g, ' ')
  }
}
