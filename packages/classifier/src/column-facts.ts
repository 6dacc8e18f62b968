/**
 * The column a prefer-* rule looks at: in CREATE TABLE and ADD COLUMN a ColumnDef with its name; in
 * ALTER COLUMN ... TYPE the AlterTableCmd whose ColumnDef carries only the new type.
 */
import { type ColumnType, columnType } from './column-types.js'
import type { RuleContext } from './rule.js'
import { type Fields, unwrap } from './walk.js'

export interface ColumnFacts {
  /** `table.column` (or the column alone when the table is not known). */
  readonly target: string
  readonly type: ColumnType
  readonly def: Fields
}

/** The kinds prefer-* rules read. */
export const COLUMN_KINDS: readonly string[] = ['ColumnDef', 'AlterTableCmd']

/** The column a node declares or retypes, inside CREATE TABLE or ALTER TABLE; undefined otherwise. */
export function columnFacts(node: Fields, ctx: RuleContext): ColumnFacts | undefined {
  if (ctx.statementKind !== 'CreateStmt' && ctx.statementKind !== 'AlterTableStmt') return undefined
  let def: Fields | undefined
  let name: string | undefined
  if (typeof node.colname === 'string') {
    def = node
    name = node.colname
  } else if (node.subtype === 'AT_AlterColumnType') {
    const w = unwrap(node.def)
    if (w?.[0] === 'ColumnDef') def = w[1]
    name = typeof node.name === 'string' ? node.name : undefined
  }
  if (def === undefined || name === undefined) return undefined
  const type = columnType(def.typeName)
  if (type === undefined) return undefined
  return { target: ctx.relation === '' ? name : `${ctx.relation}.${name}`, type, def }
}

/** The ColumnDef a prefer-* rule fired on: the node itself, or the new type of ALTER COLUMN ... TYPE. */
export function columnDefOf(node: Fields): Fields | undefined {
  if (typeof node.colname === 'string') return node
  const w = unwrap(node.def)
  return w?.[0] === 'ColumnDef' ? w[1] : undefined
}
