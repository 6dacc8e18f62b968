import type { AlterTableCmd } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { unwrap } from '../walk.js'
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

/** True when `node` is a reference to the column being converted (however qualified). */
function isColumn(node: unknown, column: string | undefined): boolean {
  const w = unwrap(node)
  if (w?.[0] !== 'ColumnRef') return false
  const fields = Array.isArray(w[1].fields) ? w[1].fields : []
  const last = unwrap(fields[fields.length - 1])
  return last?.[0] === 'String' && last[1].sval === column
}

function isConstant(node: unknown): boolean {
  const w = unwrap(node)
  if (w?.[0] === 'A_Const') return w[1].isnull !== true
  if (w?.[0] === 'TypeCast') return isConstant(w[1].arg)
  return false
}

/** A numeric constant equal to zero (`0`, `0.0`, `'0'::int`): multiplying by it keeps nothing. */
function isZero(node: unknown): boolean {
  const w = unwrap(node)
  if (w?.[0] === 'TypeCast') return isZero(w[1].arg)
  if (w?.[0] !== 'A_Const') return false
  const ival = w[1].ival as { ival?: number } | undefined
  if (ival !== undefined) return (ival.ival ?? 0) === 0
  const fval = w[1].fval as { fval?: string } | undefined
  if (fval?.fval !== undefined) return Number(fval.fval) === 0
  const sval = w[1].sval as { sval?: string } | undefined
  return sval?.sval !== undefined && sval.sval.trim() !== '' && Number(sval.sval) === 0
}

/** Types whose length modifier cuts a value short in an explicit cast (`name::char(1)`). */
const TRUNCATING_TYPES = new Set(['bpchar', 'char', 'character', 'varchar', 'character varying', 'bit', 'varbit'])

function truncatingCast(typeName: unknown): boolean {
  // A TypeCast holds its TypeName bare (no `{ TypeName: ... }` wrapper); accept both.
  const t = (unwrap(typeName)?.[1] ?? typeName) as Record<string, unknown> | undefined
  if (t === undefined || t === null || typeof t !== 'object') return false
  const names = (Array.isArray(t.names) ? t.names : []).map((n) => String(unwrap(n)?.[1].sval ?? '').toLowerCase())
  const mods = Array.isArray(t.typmods) ? t.typmods : []
  return mods.length > 0 && TRUNCATING_TYPES.has(names[names.length - 1] ?? '')
}

/**
 * Conversions that carry a value over to another type (they parse, reformat or wrap it), with the
 * column as one argument and constants as the others.
 */
const CONVERSIONS = new Set([
  'to_timestamp',
  'to_date',
  'to_number',
  'to_char',
  'to_json',
  'to_jsonb',
  'array_to_json',
  'timezone',
  'string_to_array',
  'nullif',
  'btrim',
  'ltrim',
  'rtrim',
  'trim',
])

/** Operators that move every value by a constant without merging two values into one. */
const SHIFTS = new Set(['+', '-', '||'])

/**
 * True when the USING expression carries the old value over: the column itself, through casts
 * (not one that cuts it short), `COLLATE`, an array or row of it, a known conversion
 * ({@link CONVERSIONS}) of it with constant other arguments, or a shift by a constant (`+ 1`,
 * `* 100`, `|| ' kg'`). Anything else computes a new value from the old one (`md5(c)`,
 * `c = 'yes'`, `c * 0`, `CASE ...`, `c - c`): every value is overwritten, as by an UPDATE without a
 * WHERE (undo keeps the old values of a run that keeps them; see docs/undo.md).
 */
function carriesValue(node: unknown, column: string | undefined): boolean {
  const w = unwrap(node)
  if (w === undefined) return false
  const [type, f] = w
  if (isColumn(node, column)) return true
  switch (type) {
    case 'TypeCast':
      return !truncatingCast(f.typeName) && carriesValue(f.arg, column)
    case 'CollateClause':
      return carriesValue(f.arg, column)
    case 'CoalesceExpr': {
      // coalesce(NULL, c, 0): the first argument that can yield a value must be the column; later
      // ones only fill its NULLs. coalesce('x', c) is always 'x'.
      const args = (Array.isArray(f.args) ? f.args : []).filter((a) => !isNullConstant(a)) as unknown[]
      return (
        args.length > 0 &&
        carriesValue(args[0], column) &&
        args.slice(1).every((a) => carriesValue(a, column) || isConstant(a))
      )
    }
    case 'A_ArrayExpr':
    case 'RowExpr': {
      const items = (Array.isArray(f.elements) ? f.elements : Array.isArray(f.args) ? f.args : []) as unknown[]
      return items.some((i) => carriesValue(i, column)) && items.every((i) => carriesValue(i, column) || isConstant(i))
    }
    case 'FuncCall': {
      const name = String(unwrap((f.funcname as unknown[] | undefined)?.at(-1))?.[1].sval ?? '').toLowerCase()
      const args = Array.isArray(f.args) ? (f.args as unknown[]) : []
      if (!CONVERSIONS.has(name) || f.agg_star === true || f.over !== undefined) return false
      const carried = args.filter((a) => carriesValue(a, column))
      return carried.length === 1 && args.every((a) => carriesValue(a, column) || isConstant(a))
    }
    case 'A_Expr': {
      // NULLIF(c, '') turns one marker value into NULL: the common first step of text to number.
      if (f.kind === 'AEXPR_NULLIF') return carriesValue(f.lexpr, column) && isConstant(f.rexpr)
      if (f.kind !== 'AEXPR_OP') return false
      const op = String(unwrap((f.name as unknown[] | undefined)?.at(-1))?.[1].sval ?? '')
      const left = carriesValue(f.lexpr, column)
      const right = carriesValue(f.rexpr, column)
      // Exactly one side carries the value and the other is a constant: c + 1, 100 * c, c || ' kg'.
      if (left === right) return false
      const other = left ? f.rexpr : f.lexpr
      if (!isConstant(other)) return false
      if (SHIFTS.has(op)) return true
      if (op === '*') return !isZero(other)
      if (op === '/') return right === false && !isZero(other)
      return false
    }
    default:
      return false
  }
}

/** True when the USING expression carries the column's old value into the new type (see {@link carriesValue}). */
function usingKeepsValues(cmd: AlterTableCmd): boolean {
  const def = unwrap(cmd.def)
  const raw = def?.[0] === 'ColumnDef' ? def[1].raw_default : undefined
  if (raw === undefined) return true
  const using = live(raw)
  if (using === undefined) return false
  return carriesValue(raw, cmd.name)
}

/**
 * ALTER COLUMN ... TYPE ... USING an expression that does not carry the old value over (it ignores
 * the column, can only yield NULL, or computes something else from it) overwrites every value.
 */
export const alterColumnTypeDiscardsValues = defineRule<AlterTableCmd>({
  id: 'alter-column-type-discards-values',
  tier: 'destructive',
  kinds: ['AlterTableCmd'],
  check: (cmd, ctx) =>
    cmd.subtype === 'AT_AlterColumnType' && !usingKeepsValues(cmd) ? actionTarget(cmd, ctx) : undefined,
  message: (t) =>
    `ALTER COLUMN ${t} TYPE ... USING an expression that does not carry the old value over (it ignores the column, can only yield NULL, cuts it short or computes something else from it) overwrites every value of it; once committed, only ddl undo of a run that kept the old values brings them back.`,
  hint: 'Convert the value itself (USING the column, a cast or a conversion such as to_timestamp). To compute new values, add a new column, fill it with UPDATE (kept by undo), and drop the old one later.',
})
