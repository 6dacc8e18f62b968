/**
 * Reading column types and defaults from the parse tree: the type a column gets, whether changing a
 * column to it rewrites the table, and whether a default is volatile (evaluated once per row).
 */
import { type Fields, unwrap } from './walk.js'

/** A type as written: its name without `pg_catalog.` (`varchar`, `int4`, `serial`) and its modifiers. */
export interface ColumnType {
  readonly name: string
  /** Integer modifiers (`varchar(20)` -> [20], `numeric(10,2)` -> [10, 2]); empty when none. */
  readonly mods: readonly number[]
  /** True for an array type (`int[]`). */
  readonly array: boolean
}

/** The type of a `TypeName` node's fields, or undefined. */
export function columnType(typeName: unknown): ColumnType | undefined {
  if (typeName === null || typeof typeName !== 'object') return undefined
  const t = typeName as Fields
  const names = Array.isArray(t.names) ? t.names : []
  const parts = names.map((n) => String(unwrap(n)?.[1].sval ?? ''))
  if (parts.length === 0) return undefined
  const name = (parts.length === 2 && parts[0] === 'pg_catalog' ? parts[1] : parts.join('.')) ?? ''
  const mods: number[] = []
  for (const m of Array.isArray(t.typmods) ? t.typmods : []) {
    const w = unwrap(m)
    if (w?.[0] !== 'A_Const') continue
    const ival = w[1].ival as { ival?: number } | undefined
    mods.push(ival?.ival ?? 0)
  }
  return { name: name.toLowerCase(), mods, array: Array.isArray(t.arrayBounds) }
}

/** SQL spellings of the catalog's internal type names. */
const SPELLINGS: Record<string, string> = {
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  bool: 'boolean',
  bpchar: 'char',
}

/** How a type is spelled back to the user (`varchar(20)`, `bigint`). */
export function typeWords(type: ColumnType | undefined): string {
  if (type === undefined) return 'the new type'
  const name = SPELLINGS[type.name] ?? type.name
  const base = type.mods.length > 0 ? `${name}(${type.mods.join(',')})` : name
  return type.array ? `${base}[]` : base
}

/**
 * Types a column can be widened to without a rewrite when the old type is of the same family with a
 * smaller limit: `varchar(n)` to `varchar(m >= n)`, `numeric(p,s)` to `numeric(q >= p,s)`, a time type
 * to a higher precision. Postgres's support functions (varchar_support, numeric_support, ...) turn the
 * length coercion into a no-op there.
 */
const WIDENING = new Set([
  'varchar',
  'numeric',
  'varbit',
  'bit varying',
  'timestamp',
  'timestamptz',
  'time',
  'timetz',
  'interval',
])

/** Types a binary-coercible change lands on with no limit: from `varchar(n)`, `varchar` to `text`, ... */
const UNLIMITED = new Set(['text', 'varchar', 'numeric', 'varbit', 'citext', 'inet'])

/**
 * Whether `ALTER COLUMN ... TYPE` rewrites the table. The old type is not in the statement, so a
 * change to a type that a cheap widening reaches (`text`, `varchar(n)`, a `numeric` with a precision,
 * a time type with a precision) is taken to be that widening: `varchar(n)` to a larger n or to `text`,
 * dropping a length limit, raising a numeric precision at the same scale. Any other target type, and
 * any `USING` expression, rewrites. `timestamptz` without a precision is a rewrite: from `timestamp`
 * Postgres skips it only when the session TimeZone is UTC.
 */
export function typeChangeRewrites(def: Fields): boolean {
  if (def.raw_default !== undefined) return true
  const type = columnType(def.typeName)
  if (type === undefined || type.array) return true
  if (type.mods.length === 0) return !UNLIMITED.has(type.name)
  return !WIDENING.has(type.name)
}

/** Serial pseudo-types: the column's default is nextval() of a new sequence. */
export const SERIAL_TYPES: ReadonlySet<string> = new Set([
  'serial',
  'serial4',
  'bigserial',
  'serial8',
  'smallserial',
  'serial2',
])

/** Built-in functions that are volatile: a default that calls one is evaluated for every row. */
const VOLATILE_FUNCTIONS = new Set([
  'random',
  'random_normal',
  'gen_random_uuid',
  'uuidv4',
  'uuidv7',
  'uuid_generate_v1',
  'uuid_generate_v1mc',
  'uuid_generate_v4',
  'clock_timestamp',
  'timeofday',
  'nextval',
  'setval',
  'currval',
  'lastval',
  'txid_current',
  'pg_current_xact_id',
])

/**
 * Built-in functions that are stable or immutable: a default that calls only these is evaluated
 * once (since Postgres 11) and stored in the catalog, with no rewrite.
 */
const STABLE_FUNCTIONS = new Set([
  'now',
  'transaction_timestamp',
  'statement_timestamp',
  'current_date',
  'localtimestamp',
  'lower',
  'upper',
  'length',
  'concat',
  'concat_ws',
  'coalesce',
  'nullif',
  'greatest',
  'least',
  'abs',
  'round',
  'trunc',
  'floor',
  'ceil',
  'to_char',
  'to_date',
  'to_timestamp',
  'to_number',
  'date_trunc',
  'make_date',
  'make_interval',
  'make_timestamp',
  'make_timestamptz',
  'json_build_object',
  'jsonb_build_object',
  'json_build_array',
  'jsonb_build_array',
  'array_fill',
  'md5',
  'replace',
  'substr',
  'substring',
  'btrim',
  'ltrim',
  'rtrim',
  'format',
  'current_setting',
])

/**
 * True when an expression may be volatile: it calls a volatile built-in, or a function safe-ddl does
 * not know (which may be volatile). Constants, casts, operators and stable built-ins are not.
 */
export function mayBeVolatile(expr: unknown): boolean {
  let volatile = false
  const stack: unknown[] = [expr]
  while (stack.length > 0 && !volatile) {
    const value = stack.pop()
    if (value === null || typeof value !== 'object') continue
    if (Array.isArray(value)) {
      stack.push(...value)
      continue
    }
    const w = unwrap(value)
    if (w?.[0] === 'FuncCall') {
      const names = Array.isArray(w[1].funcname) ? w[1].funcname : []
      const name = String(unwrap(names.at(-1))?.[1].sval ?? '').toLowerCase()
      if (VOLATILE_FUNCTIONS.has(name) || !STABLE_FUNCTIONS.has(name)) volatile = true
    } else if (w?.[0] === 'SubLink') {
      volatile = true
    }
    for (const child of Object.values(w?.[1] ?? (value as Fields))) {
      if (child !== null && typeof child === 'object') stack.push(child)
    }
  }
  return volatile
}

/** The `Constraint` nodes of a ColumnDef. */
export function columnConstraints(def: Fields): Fields[] {
  const out: Fields[] = []
  for (const c of Array.isArray(def.constraints) ? def.constraints : []) {
    const w = unwrap(c)
    if (w?.[0] === 'Constraint') out.push(w[1])
  }
  return out
}

/** Why `ADD COLUMN` rewrites the table: a stored generated column, or a default evaluated per row. */
export interface AddColumnRewrite {
  readonly kind: 'generated' | 'default'
  /** What is written into every row, for the message. */
  readonly reason: string
}

/** Why `ADD COLUMN` rewrites the table, or undefined when it does not. */
export function addColumnRewrite(def: Fields, pgVersion: number): AddColumnRewrite | undefined {
  const type = columnType(def.typeName)
  if (type !== undefined && SERIAL_TYPES.has(type.name)) {
    return { kind: 'default', reason: `its ${type.name} default fills every row from a sequence` }
  }
  for (const c of columnConstraints(def)) {
    if (c.contype === 'CONSTR_GENERATED' && c.generated_kind !== 'v') {
      return { kind: 'generated', reason: 'a stored generated column is computed and written for every row' }
    }
    if (c.contype === 'CONSTR_IDENTITY') {
      return { kind: 'default', reason: 'an identity column is filled for every row from a sequence' }
    }
    if (c.contype === 'CONSTR_DEFAULT' && c.raw_expr !== undefined) {
      if (mayBeVolatile(c.raw_expr)) {
        return {
          kind: 'default',
          reason: 'its default is volatile (or calls a function safe-ddl does not know) and is evaluated for every row',
        }
      }
      if (pgVersion < 11 && !isNullConstant(c.raw_expr)) {
        return { kind: 'default', reason: `before Postgres 11, any default is written into every row` }
      }
    }
  }
  return undefined
}

function isNullConstant(expr: unknown): boolean {
  const w = unwrap(expr)
  return w?.[0] === 'A_Const' && w[1].isnull === true
}
