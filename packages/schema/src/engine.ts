/**
 * The diff engine: `@supabase/pg-delta` (pinned; see docs/diff.md for why). It reads each database's
 * catalog into facts and plans the ordered DDL that turns one into the other. Its output is text to
 * classify, never something this package trusts: every statement goes through `@ddl/classifier`
 * (schema-diff.ts) before anyone sees it.
 */
import { buildFactBase, encodeId, extract, type FactBase, plan, type StableId } from '@supabase/pg-delta'
import pg from 'pg'
import { isToolRelation, isToolSchema } from './tool-tables.js'

/** One statement the engine proposes, with what it says about it (reported, never trusted). */
export interface EngineAction {
  readonly sql: string
  readonly verb: 'create' | 'alter' | 'drop'
  /** The engine's own view: `destructive` when it drops stored data. */
  readonly dataLoss: 'none' | 'destructive'
  readonly transactional: boolean
  readonly produces: readonly string[]
  readonly destroys: readonly string[]
}

/** A pair of objects the engine saw removed and added with the same shape. */
export interface EngineRename {
  readonly kind: string
  readonly from: StableId
  readonly to: StableId
  readonly status: 'unambiguous' | 'ambiguous' | 'nearMiss'
  readonly reason?: string
}

/** Both plans: with every unambiguous rename applied, and with none (drop and create). */
export interface EnginePlans {
  readonly withRenames: readonly EngineAction[]
  readonly dropCreate: readonly EngineAction[]
  readonly renames: readonly EngineRename[]
  /** What the engine reported and did not model (`unmodeled_kind`, ...), as text. */
  readonly diagnostics: readonly string[]
}

/** A catalog read: the facts of one database. */
export type Catalog = FactBase

/**
 * Reads a database's catalog into the engine's facts, with what neither side of a diff manages taken
 * out: roles and memberships (cluster-wide, and a throwaway server has other roles), ownership, and
 * the tool's own tracking tables. Rejects with node-postgres's or the engine's error.
 */
export async function readCatalog(url: string): Promise<Catalog> {
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  // An idle client ended by the server (a shadow database dropped WITH (FORCE)) must not be an
  // unhandled 'error' event.
  pool.on('error', () => undefined)
  try {
    const result = await extract(pool)
    return managedView(result.factBase)
  } finally {
    await pool.end()
  }
}

const UNMANAGED_KINDS = new Set<string>()

function managedView(base: FactBase): FactBase {
  const excluded = (id: StableId | undefined, depth = 0): boolean => {
    if (id === undefined || depth > 8) return false
    if (UNMANAGED_KINDS.has(id.kind)) return true
    const fields = id as unknown as Record<string, unknown>
    if ('target' in fields && excluded(fields.target as StableId, depth + 1)) return true
    if (isToolRelation(fields.schema, fields.table)) return true
    if (isToolSchema(fields.schema) || (id.kind === 'schema' && isToolSchema(fields.name))) return true
    if (
      (id.kind === 'table' || id.kind === 'index' || id.kind === 'sequence') &&
      isToolRelation(fields.schema, fields.name)
    )
      return true
    const fact = base.get(id)
    return fact?.parent !== undefined && excluded(fact.parent, depth + 1)
  }
  const facts = base.facts().filter((fact) => !excluded(fact.id))
  return buildFactBase(facts, [...base.edges], base.source)
}

/**
 * Plans the change from one catalog to another twice: with the unambiguous renames the engine found
 * applied, and with none. Throws the engine's error (the caller wraps it).
 */
export function planChange(from: Catalog, to: Catalog): EnginePlans {
  // Database scope: roles are the cluster's, not the schema's; every role either side names is assumed.
  const roles = new Set<string>()
  for (const base of [from, to]) for (const fact of base.facts()) if (fact.id.kind === 'role') roles.add(fact.id.name)
  const scope = { scope: 'database' as const, assumedRoles: [...roles] }
  const dropCreate = plan(from, to, { ...scope, renames: 'prompt' })
  const renames: EngineRename[] = dropCreate.renameCandidates.map((c) => ({
    kind: c.kind,
    from: c.from,
    to: c.to,
    status: c.status,
    ...(c.reason !== undefined ? { reason: c.reason } : {}),
  }))
  const accept = renames.filter((r) => r.status === 'unambiguous').map((r) => ({ from: r.from, to: r.to }))
  const withRenames =
    accept.length === 0 ? dropCreate : plan(from, to, { ...scope, renames: 'prompt', acceptRenames: accept })
  const diagnostics = [...from.diagnostics, ...to.diagnostics].map((d) => JSON.stringify(d))
  return {
    withRenames: withRenames.actions.map(toAction),
    dropCreate: dropCreate.actions.map(toAction),
    renames,
    diagnostics: [...new Set(diagnostics)],
  }
}

function toAction(action: {
  sql: string
  verb: 'create' | 'alter' | 'drop'
  dataLoss: 'none' | 'destructive'
  transactionality: string
  produces: StableId[]
  destroys: StableId[]
}): EngineAction {
  return {
    sql: action.sql,
    verb: action.verb,
    dataLoss: action.dataLoss,
    transactional: action.transactionality === 'transactional',
    produces: action.produces.map(encodeId),
    destroys: action.destroys.map(encodeId),
  }
}

/** The engine's text name of an object (`table:public.users`). */
export function objectName(id: StableId): string {
  return encodeId(id)
}
