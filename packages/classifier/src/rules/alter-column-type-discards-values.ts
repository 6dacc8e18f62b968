import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { unwrap, walk } from '../walk.js'
import { actionTarget } from './alter-table.js'

/** Built-ins that do not return NULL for a NULL argument. */
const NON_STRICT = new Set([
  'coalesce',
  'concat',
  'concat_ws',
  'format',
  'greatest',
  'least',
  'num_nulls',
  'num_nonnulls',
])

function isNullConstant(node: unknown): boolean {
  const w = unwrap(node)
  if (w?.[0] === 'A_Const') return w[1].isnull === true
  if (w?.[0] === 'TypeCast') return isNullConstant(w[1].arg)
  return false
}

function isBoolConstant(node: unknown, value: boolean): boolean {
  const w = unwrap(node)
  if (w?.[0] === 'TypeCast') return isBoolConstant(w[1].arg, value)
  if (w?.[0] !== 'A_Const') return false
  const b = w[1].boolval as { boolval?: boolean } | undefined
  return b !== undefined && (b.boolval === true) === value
}

function same(a: unknown, b: unknown): boolean {
  const strip = (v: unknown) => JSON.stringify(v, (k, x) => (k === 'location' ? undefined : x))
  return strip(a) === strip(b)
}

/**
 * The part of a USING expression that can yield a value, with what can only yield NULL or is never
 * reached cut away: `CASE WHEN false THEN c END` is NULL, `c || NULL` and `c + NULL` are NULL,
 * `nullif(c, c)` is NULL, `CASE WHEN true THEN 0 ELSE c END` never reads c. Undefined: only NULL.
 */
function live(node: unknown): unknown {
  const w = unwrap(node)
  if (w === undefined) return node
  const [type, f] = w
  if (isNullConstant(node)) return undefined
  if (type === 'TypeCast') return live(f.arg) === undefined ? undefined : node
  if (type === 'A_Expr' && f.kind === 'AEXPR_NULLIF' && same(f.lexpr, f.rexpr)) return undefined
  if (type === 'A_Expr' && f.kind === 'AEXPR_OP') {
    // Operators of pg_catalog are strict: one NULL operand makes the result NULL.
    if (live(f.lexpr) === undefined && f.lexpr !== undefined) return undefined
    if (live(f.rexpr) === undefined && f.rexpr !== undefined) return undefined
    return node
  }
  if (type === 'FuncCall') {
    const name = String(unwrap((f.funcname as unknown[] | undefined)?.at(-1))?.[1].sval ?? '').toLowerCase()
    const args = Array.isArray(f.args) ? f.args : []
    if (name === 'nullif' && args.length === 2 && same(args[0], args[1])) return undefined
    const kept = args.map(live)
    if (NON_STRICT.has(name))
      return kept.some((a) => a !== undefined) ? { List: { items: kept.filter(Boolean) } } : undefined
    return kept.some((a) => a === undefined) ? undefined : node
  }
  if (type === 'CoalesceExpr') {
    const kept = (Array.isArray(f.args) ? f.args : []).map(live).filter((a) => a !== undefined)
    return kept.length === 0 ? undefined : { List: { items: kept } }
  }
  if (type === 'CaseExpr') {
    const results: unknown[] = []
    for (const when of Array.isArray(f.args) ? f.args : []) {
      const cw = unwrap(when)?.[1]
      if (cw === undefined) continue
      if (isBoolConstant(cw.expr, false)) continue
      results.push(cw.expr, live(cw.result))
      // WHEN true: nothing after it is reached.
      if (isBoolConstant(cw.expr, true))
        return live(cw.result) === undefined ? undefined : { List: { items: [cw.result] } }
    }
    results.push(f.defresult === undefined ? undefined : live(f.defresult))
    if (f.arg !== undefined) results.push(f.arg)
    const valued = results.filter((r, i) => r !== undefined && (i % 2 === 1 || i === results.length - 1))
    return valued.length === 0 ? undefined : { List: { items: results.filter((r) => r !== undefined) } }
  }
  return node
}

/** True when the USING expression reads the column being converted, in a part that yields values. */
function usingReadsColumn(cmd: AlterTableCmd): boolean {
  const def = unwrap(cmd.def)
  const raw = def?.[0] === 'ColumnDef' ? def[1].raw_default : undefined
  if (raw === undefined) return true
  const using = live(raw)
  if (using === undefined) return false
  let reads = false
  walk(using, (type, f) => {
    if (type !== 'ColumnRef' || reads) return undefined
    const fields = Array.isArray(f.fields) ? f.fields : []
    const last = unwrap(fields[fields.length - 1])
    if (last?.[0] === 'String' && last[1].sval === cmd.name) reads = true
    return false
  })
  return reads
}

/** ALTER COLUMN ... TYPE ... USING an expression that ignores the column overwrites every value. */
export const alterColumnTypeDiscardsValues = defineRule<AlterTableCmd>({
  id: 'alter-column-type-discards-values',
  tier: 'destructive',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) =>
    cmd.subtype === 'AT_AlterColumnType' && !usingReadsColumn(cmd) ? actionTarget(cmd, ctx) : undefined,
  message: (t) =>
    `ALTER COLUMN ${t} TYPE ... USING an expression that does not read the column (or can only yield NULL) replaces every value of it.`,
  hint: 'Convert from the old value (USING the column itself); to reset a column, add a new one and drop the old one later.',
})
