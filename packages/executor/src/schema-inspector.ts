import type pg from 'pg'

/** One column of a table. */
export interface ColumnInfo {
  readonly name: string
  /** The type as Postgres writes it (`character varying(20)`, `timestamp with time zone`). */
  readonly type: string
  readonly nullable: boolean
  /** The default expression (`now()`, `'draft'::text`), or `null`. */
  readonly default: string | null
  /** `ALWAYS` / `BY DEFAULT` for identity columns, else `null`. */
  readonly identity: 'ALWAYS' | 'BY DEFAULT' | null
  /** The expression of a generated column, else `null`. */
  readonly generated: string | null
}

/** One index of a table. */
export interface IndexInfo {
  readonly name: string
  /** `CREATE [UNIQUE] INDEX ...` as Postgres would write it. */
  readonly definition: string
  readonly unique: boolean
  readonly primary: boolean
  /** False for an index a failed CREATE INDEX CONCURRENTLY left behind. */
  readonly valid: boolean
}

/** The kinds of table constraints. */
export type ConstraintType = 'primary key' | 'foreign key' | 'unique' | 'check' | 'exclusion' | 'not null' | 'trigger'

/** One constraint of a table. */
export interface ConstraintInfo {
  readonly name: string
  readonly type: ConstraintType
  /** `PRIMARY KEY (id)`, `FOREIGN KEY (user_id) REFERENCES users(id)`, ... */
  readonly definition: string
  /** False for a constraint added NOT VALID and not validated yet. */
  readonly validated: boolean
}

/** Kinds of relations `getSchema` describes. */
export type RelationKind = 'table' | 'partitioned table' | 'view' | 'materialized view' | 'foreign table'

/**
 * The structure of a table. Iterating it yields its columns, as `for (const col of schema)` expects.
 *
 * @example
 * for (const col of schema) console.log(`${col.name}: ${col.type}`)
 */
export interface TableSchema extends Iterable<ColumnInfo> {
  readonly schema: string
  readonly name: string
  /** `schema.name`, quoted where needed. */
  readonly qualifiedName: string
  readonly kind: RelationKind
  readonly columns: readonly ColumnInfo[]
  readonly indexes: readonly IndexInfo[]
  readonly constraints: readonly ConstraintInfo[]
  /** The table's comment, or `null`. */
  readonly comment: string | null
}

/** A table in the listing of `listTables`. */
export interface TableSummary {
  readonly schema: string
  readonly name: string
  readonly kind: RelationKind
  /** The planner's row estimate (`reltuples`); `null` when never analyzed. */
  readonly estimatedRows: number | null
}

const KINDS: Record<string, RelationKind> = {
  r: 'table',
  p: 'partitioned table',
  v: 'view',
  m: 'materialized view',
  f: 'foreign table',
}

const CONSTRAINT_TYPES: Record<string, ConstraintType> = {
  p: 'primary key',
  f: 'foreign key',
  u: 'unique',
  c: 'check',
  x: 'exclusion',
  n: 'not null',
  t: 'trigger',
}

/** Schemas that are Postgres's own; `listTables` leaves them out. */
const SYSTEM_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`

const FIND_RELATION = `
SELECT c.oid::text AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
       format('%I.%I', n.nspname, c.relname) AS qualified, obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`

const COLUMNS = `
SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS "default",
       CASE a.attidentity WHEN 'a' THEN 'ALWAYS' WHEN 'd' THEN 'BY DEFAULT' END AS identity,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(d.adbin, d.adrelid) END AS generated
FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`

const INDEXES = `
SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition, x.indisunique AS unique,
       x.indisprimary AS primary, x.indisvalid AS valid
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
WHERE x.indrelid = $1::oid ORDER BY x.indisprimary DESC, i.relname`

const CONSTRAINTS = `
SELECT conname AS name, contype::text AS type, pg_get_constraintdef(oid) AS definition, convalidated AS validated
FROM pg_constraint WHERE conrelid = $1::oid ORDER BY contype, conname`

const TABLE_EXISTS = `
SELECT EXISTS (SELECT 1 FROM pg_class WHERE oid = to_regclass($1) AND relkind IN ('r', 'p', 'v', 'm', 'f')) AS exists`

const LIST_TABLES = `
SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
       CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::int8::text END AS rows
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT c.relispartition AND ${SYSTEM_SCHEMAS}
ORDER BY n.nspname = 'public' DESC, n.nspname, c.relname`

/**
 * Reads a table's columns, indexes and constraints. `table` is a name as SQL would write it:
 * `users`, `public.users`, `"Mixed Case"`, `"my schema"."t"` (resolved with `to_regclass` on the
 * search path, so quoting and schemas work as in SQL). Resolves to `undefined` when there is no such
 * table, view or materialized view. Rejects with node-postgres's error (a malformed name on servers
 * before 16).
 */
export async function inspectTable(client: pg.ClientBase, table: string): Promise<TableSchema | undefined> {
  const found = await client.query<{
    oid: string
    schema: string
    name: string
    kind: string
    qualified: string
    comment: string | null
  }>({ text: FIND_RELATION, values: [table] })
  const relation = found.rows[0]
  if (relation === undefined) return undefined
  const columns = await client.query<ColumnInfo>({ text: COLUMNS, values: [relation.oid] })
  const indexes = await client.query<IndexInfo>({ text: INDEXES, values: [relation.oid] })
  const constraints = await client.query<{ name: string; type: string; definition: string; validated: boolean }>({
    text: CONSTRAINTS,
    values: [relation.oid],
  })
  const columnList = columns.rows.map((c) => ({ ...c }))
  const schema: TableSchema = {
    schema: relation.schema,
    name: relation.name,
    qualifiedName: relation.qualified,
    kind: KINDS[relation.kind] ?? 'table',
    columns: columnList,
    indexes: indexes.rows.map((i) => ({ ...i })),
    constraints: constraints.rows.map((c) => ({
      name: c.name,
      type: CONSTRAINT_TYPES[c.type] ?? 'check',
      definition: c.definition,
      validated: c.validated,
    })),
    comment: relation.comment,
    [Symbol.iterator]: () => columnList[Symbol.iterator](),
  }
  return schema
}

/** True when `table` names an existing table, view, materialized view or foreign table (see {@link inspectTable}). */
export async function relationExists(client: pg.ClientBase, table: string): Promise<boolean> {
  const result = await client.query<{ exists: boolean }>({ text: TABLE_EXISTS, values: [table] })
  return result.rows[0]?.exists === true
}

/** Every table, view and materialized view outside Postgres's own schemas (`public` first). */
export async function listRelations(client: pg.ClientBase): Promise<TableSummary[]> {
  const result = await client.query<{ schema: string; name: string; kind: string; rows: string | null }>(LIST_TABLES)
  return result.rows.map((r) => ({
    schema: r.schema,
    name: r.name,
    kind: KINDS[r.kind] ?? 'table',
    estimatedRows: r.rows === null ? null : Number(r.rows),
  }))
}
