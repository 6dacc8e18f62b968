/**
 * ALTER COLUMN ... TYPE with the old type known from the carried {@link MigrationHistory}: whether the
 * change is a catalog-only widening, or rewrites the table.
 */
import { type ColumnType, columnType, typeChangeRewrites } from './column-types.js'
import { existingRelation } from './hazard-state.js'
import type { LearnedTable } from './history.js'
import { relationKey } from './locks.js'
import type { RuleContext } from './rule.js'
import { type Fields, unwrap } from './walk.js'

/**
 * The history's table for the statement's relation; none for an unqualified name once a script of
 * the run moved `search_path` (the name may now mean another schema's table).
 */
function knownTable(ctx: RuleContext): LearnedTable | undefined {
  const history = ctx.script.history
  if (history.searchPathMoved && !ctx.relation.includes('.')) return undefined
  return history.tables.get(relationKey(ctx.relation))
}

const SAME_FAMILY_LIMIT = new Set(['varchar', 'varbit', 'bit varying'])
const TIME = new Set(['timestamp', 'timestamptz', 'time', 'timetz', 'interval'])

/** True when Postgres changes `from` to `to` in the catalog alone (no rewrite of the table). */
export function isCatalogOnlyChange(from: ColumnType, to: ColumnType): boolean {
  if (from.array !== to.array) return false
  if (from.name === to.name) {
    if (to.mods.length === 0 && (SAME_FAMILY_LIMIT.has(to.name) || to.name === 'numeric' || TIME.has(to.name)))
      return true
    if (from.mods.join(',') === to.mods.join(',')) return true
    if (from.mods.length === 0) return TIME.has(to.name) && (to.mods[0] ?? 6) >= 6
    if (SAME_FAMILY_LIMIT.has(to.name)) return (to.mods[0] ?? 0) >= (from.mods[0] ?? 0)
    if (to.name === 'numeric') {
      return (from.mods[1] ?? 0) === (to.mods[1] ?? 0) && (to.mods[0] ?? 0) >= (from.mods[0] ?? 0)
    }
    if (TIME.has(to.name)) return (to.mods[0] ?? 6) >= (from.mods[0] ?? 6)
    return false
  }
  // Binary-coercible with no length check: varchar to text, text to unlimited varchar, cidr to inet.
  if (from.name === 'varchar' && to.name === 'text') return true
  if (from.name === 'text' && to.name === 'varchar' && to.mods.length === 0) return true
  if (from.name === 'cidr' && to.name === 'inet') return true
  return false
}

/** What the history says about an ALTER COLUMN ... TYPE the plain rewrite rule took for a widening. */
export interface OldTypeFacts {
  readonly column: string
  /** The old type, or undefined when no earlier script declared the column. */
  readonly from: ColumnType | undefined
}

/**
 * For ALTER COLUMN ... TYPE on an existing table whose new type a cheap widening could reach (so
 * `alter-column-type-rewrite` stays silent): the column and its old type from the history.
 * Undefined for anything else.
 */
export function unprovenWidening(cmd: Fields, ctx: RuleContext): OldTypeFacts | undefined {
  if (cmd.subtype !== 'AT_AlterColumnType' || typeof cmd.name !== 'string') return undefined
  const def = unwrap(cmd.def)
  if (def?.[0] !== 'ColumnDef' || typeChangeRewrites(def[1]) || !existingRelation(ctx)) return undefined
  const table = knownTable(ctx)
  return { column: `${ctx.relation}.${cmd.name}`, from: table?.columns.get(cmd.name) }
}

const INTEGER_WIDTH: Readonly<Record<string, number>> = {
  int2: 2,
  smallint: 2,
  smallserial: 2,
  serial2: 2,
  int4: 4,
  int: 4,
  integer: 4,
  serial: 4,
  serial4: 4,
  int8: 8,
  bigint: 8,
  bigserial: 8,
  serial8: 8,
}

/**
 * True when every value of type `from` survives the change to `to` unchanged: a catalog-only
 * widening, a wider integer, an unconstrained numeric from an integer, double from real, or text.
 */
export function isLosslessChange(from: ColumnType, to: ColumnType): boolean {
  if (isCatalogOnlyChange(from, to)) return true
  if (from.array !== to.array) return false
  if (to.name === 'text') return true
  const a = INTEGER_WIDTH[from.name]
  if (a !== undefined) {
    const b = INTEGER_WIDTH[to.name]
    if (b !== undefined) return b >= a
    return to.name === 'numeric' && to.mods.length === 0
  }
  return (from.name === 'float4' || from.name === 'real') && (to.name === 'float8' || to.name === 'double precision')
}

/**
 * ALTER COLUMN ... TYPE whose old type the history knows and whose new type holds every old value
 * unchanged (no USING expression other than the column itself): nothing is lost, though the table
 * may be rewritten (a hazard of its own). Undefined for anything else.
 */
export function losslessTypeChange(cmd: Fields, ctx: RuleContext): boolean {
  if (cmd.subtype !== 'AT_AlterColumnType' || typeof cmd.name !== 'string') return false
  const def = unwrap(cmd.def)
  if (def?.[0] !== 'ColumnDef') return false
  const using = unwrap(def[1].raw_default)
  if (using !== undefined) {
    const fields = Array.isArray(using[1].fields) ? using[1].fields : []
    const only = fields.length === 1 ? String(unwrap(fields[0])?.[1].sval ?? '') : ''
    if (using[0] !== 'ColumnRef' || only !== cmd.name) return false
  }
  if (def[1].collClause !== undefined) return false
  const from = knownTable(ctx)?.columns.get(cmd.name)
  const to = columnType(def[1].typeName)
  if (from === undefined || to === undefined) return false
  return isLosslessChange(from, to) || utcTimestampSwap(from, to, ctx)
}

/** timestamp <-> timestamptz reads each value in the session's time zone: UTC, set by the script. */
function utcTimestampSwap(from: ColumnType, to: ColumnType, ctx: RuleContext): boolean {
  const zones = new Set([from.name, to.name])
  return (
    ctx.script.utc && zones.size === 2 && zones.has('timestamp') && zones.has('timestamptz') && from.array === to.array
  )
}

/**
 * ALTER COLUMN ... TYPE between timestamp and timestamptz (no USING but the column itself), with the
 * old type known and the session's time zone UTC: Postgres 12 and later change the catalog only (the
 * values are the same bytes), rebuilding the column's indexes.
 */
export function utcTimestampChange(cmd: Fields, ctx: RuleContext): boolean {
  if (cmd.subtype !== 'AT_AlterColumnType' || typeof cmd.name !== 'string' || ctx.pgVersion < 12) return false
  const def = unwrap(cmd.def)
  if (def?.[0] !== 'ColumnDef' || !losslessTypeChange(cmd, ctx)) return false
  const from = knownTable(ctx)?.columns.get(cmd.name)
  const to = columnType(def[1].typeName)
  return from !== undefined && to !== undefined && utcTimestampSwap(from, to, ctx)
}
