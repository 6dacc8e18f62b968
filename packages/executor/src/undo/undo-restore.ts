import type { Session } from '../session.js'
import { isServerError } from '../statement-runner.js'
import { UndoError } from './undo-error.js'
import type { KeptColumn, KeptItem, KeptRetype, KeptRows, KeptSchema, KeptTable, ObjectDef } from './undo-items.js'
import { qualify, quoteIdent, quoteLiteral, rows, storeExists } from './undo-store.js'

/** One kept run, as `ddl undo --list` shows it. */
export interface UndoEntry {
  readonly id: string
  /** ISO 8601, UTC. */
  readonly createdAt: string
  readonly actor: string | null
  readonly project: string
  readonly statements: readonly {
    readonly index: number
    readonly line: number
    readonly statement: string
    readonly sent?: string
  }[]
  readonly objects: readonly string[]
  readonly rows: Readonly<Record<string, number>>
  readonly sizeBytes: number
  /** The audit `runId`s of the run's statements. */
  readonly auditIds: readonly string[]
  /** When it was undone, or null. */
  readonly restoredAt: string | null
}

interface CatalogRow {
  id: string
  created_at: Date
  actor: string | null
  project: string
  statements: UndoEntry['statements']
  objects: string[]
  row_counts: Record<string, number>
  size_bytes: string
  audit_ids: string[]
  items: KeptItem[]
  restored_at: Date | null
}

function entryOf(row: CatalogRow): UndoEntry {
  return {
    id: row.id,
    createdAt: row.created_at.toISOString(),
    actor: row.actor,
    project: row.project,
    statements: row.statements,
    objects: row.objects,
    rows: row.row_counts,
    sizeBytes: Number(row.size_bytes),
    auditIds: row.audit_ids,
    restoredAt: row.restored_at === null ? null : row.restored_at.toISOString(),
  }
}

/** Every kept run, newest first. Throws the driver's error. */
export async function listKept(session: Session): Promise<UndoEntry[]> {
  if (!(await storeExists(session))) return []
  const found = await rows<CatalogRow>(session, 'SELECT * FROM ddl_undo.runs ORDER BY created_at DESC, id')
  return found.map(entryOf)
}

/** The tables in `ddl_undo` an entry holds. */
function keptTables(items: readonly KeptItem[]): string[] {
  const out: string[] = []
  for (const item of items) {
    if (item.kind === 'rows') {
      if (item.oldTable !== null) out.push(item.oldTable)
      if (item.newTable !== null) out.push(item.newTable)
    } else if (item.kind === 'table') out.push(item.keptName)
    else if ((item.kind === 'column' || item.kind === 'retype') && item.valuesTable !== null) out.push(item.valuesTable)
    if (item.kind === 'retype' && item.newTable !== null) out.push(item.newTable)
  }
  return out
}

/** The renamed schemas in which runs keep dropped schemas. */
function keptSchemas(items: readonly KeptItem[]): string[] {
  return items.flatMap((i) => (i.kind === 'schema' ? [i.keptName] : []))
}

/** Drops the kept copies of runs older than `olderThanMs` (and of undone runs); returns their ids. Throws the driver's error. */
export async function purgeKept(session: Session, olderThanMs: number): Promise<string[]> {
  if (!(await storeExists(session))) return []
  const found = await rows<CatalogRow>(
    session,
    `SELECT * FROM ddl_undo.runs WHERE created_at < pg_catalog.now() - ($1::text || ' milliseconds')::interval
      ORDER BY created_at FOR UPDATE`,
    [String(Math.max(0, Math.trunc(olderThanMs)))],
  )
  for (const row of found) {
    for (const table of keptTables(row.items)) {
      await rows(session, `DROP TABLE IF EXISTS ${qualify('ddl_undo', table)} CASCADE`)
    }
    for (const schema of keptSchemas(row.items))
      await rows(session, `DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`)
    await rows(session, 'DELETE FROM ddl_undo.runs WHERE id = $1', [row.id])
  }
  return found.map((r) => r.id)
}

async function relationName(session: Session, relid: number): Promise<string | undefined> {
  const found = await rows<{ name: string | null }>(
    session,
    `SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name FROM pg_catalog.pg_class c
       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1`,
    [relid],
  )
  return found[0]?.name ?? undefined
}

async function shape(session: Session, relation: string): Promise<string> {
  const found = await rows<{ shape: string | null }>(
    session,
    `SELECT pg_catalog.string_agg(attname::text || ' ' || pg_catalog.format_type(atttypid, atttypmod), ', ' ORDER BY attnum) AS shape
       FROM pg_catalog.pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [relation],
  )
  return found[0]?.shape ?? ''
}

async function writableColumns(session: Session, relation: string): Promise<string> {
  const found = await rows<{ cols: string }>(
    session,
    `SELECT pg_catalog.string_agg(pg_catalog.quote_ident(attname), ', ' ORDER BY attnum) AS cols
       FROM pg_catalog.pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''`,
    [relation],
  )
  return found[0]?.cols ?? ''
}

async function taken(session: Session, query: string): Promise<boolean> {
  const found = await rows<{ taken: boolean }>(session, query)
  return found[0]?.taken === true
}

/** Locks, then lists what stands in the way of putting `item` back. */
async function conflictsOf(session: Session, item: KeptItem): Promise<string[]> {
  const out: string[] = []
  if (item.kind === 'rows') {
    const name = await relationName(session, item.relid)
    if (name === undefined) return [`${item.relation} no longer exists`]
    await rows(session, `LOCK TABLE ${name} IN SHARE ROW EXCLUSIVE MODE`)
    for (const kept of [item.oldTable, item.newTable]) {
      if (kept === null) continue
      if ((await shape(session, qualify('ddl_undo', kept))) !== (await shape(session, name))) {
        return [`the columns of ${name} changed since the run`]
      }
    }
    if (item.newTable !== null && item.newRows > 0) {
      const missing = await rows<{ n: string }>(
        session,
        `SELECT count(*)::text AS n FROM (SELECT pg_catalog.to_jsonb(k) AS j, count(*) AS n FROM ${qualify('ddl_undo', item.newTable)} k GROUP BY 1) k
           LEFT JOIN (SELECT pg_catalog.to_jsonb(t) AS j, count(*) AS n FROM ${name} t GROUP BY 1) c ON c.j = k.j
          WHERE COALESCE(c.n, 0) < k.n`,
      )
      const n = Number(missing[0]?.n ?? 0)
      if (n > 0) out.push(`${name}: ${n} row version(s) the run wrote were changed or deleted since`)
    }
    return out
  }
  if (item.kind === 'table') {
    const kept = await rows(
      session,
      `SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = $1 AND n.nspname = 'ddl_undo' AND c.relname = $2`,
      [item.relid, item.keptName],
    )
    if (kept.length === 0) return [`the kept copy of ${qualify(item.schema, item.name)} is gone`]
    const schema = await rows(session, 'SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [item.schema])
    if (schema.length === 0) return [`schema ${quoteIdent(item.schema)} no longer exists`]
    for (const name of [item.name, ...item.renamed.map((r) => r.name)]) {
      if (
        await taken(
          session,
          `SELECT pg_catalog.to_regclass('${qualify(item.schema, name).replaceAll("'", "''")}') IS NOT NULL AS taken`,
        )
      ) {
        out.push(`a new relation named ${qualify(item.schema, name)} exists`)
      }
    }
    for (const fk of item.foreignKeys) {
      if ((await relationName(session, fk.relid)) === undefined && fk.relid !== item.relid) {
        out.push(`the table of foreign key ${quoteIdent(fk.name)} no longer exists`)
      }
    }
    out.push(...(await definitionConflicts(session, item.dependents)))
    return out
  }
  if (item.kind === 'column') {
    const name = await relationName(session, item.relid)
    if (name === undefined) return [`${item.relation} no longer exists`]
    await rows(session, `LOCK TABLE ${name} IN SHARE ROW EXCLUSIVE MODE`)
    const present = await rows<{ name: string }>(
      session,
      `SELECT pg_catalog.quote_ident(attname) AS name FROM pg_catalog.pg_attribute
        WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`,
      [item.relid],
    )
    const names = new Set(present.map((p) => p.name))
    if (names.has(quoteIdent(item.column))) out.push(`${name} has a column named ${quoteIdent(item.column)} again`)
    for (const k of item.key) if (!names.has(k)) out.push(`${name} no longer has its key column ${k}`)
    out.push(...(await definitionConflicts(session, item.dependents)))
    return out
  }
  if (item.kind === 'retype') return retypeConflicts(session, item)
  if (item.kind === 'schema') return schemaConflicts(session, item)
  return definitionConflicts(session, item.objects)
}

/** `(t.a, t.b) = (k.a, k.b)`, or the rest of the row for a table matched without a key. */
function matchOn(
  item: { key: readonly string[]; match: 'key' | 'row'; lost?: readonly string[]; column: string },
  helpers: readonly string[] = [],
): string {
  if (item.match === 'key')
    return `(${item.key.map((c) => `t.${c}`).join(', ')}) = (${item.key.map((c) => `k.${c}`).join(', ')})`
  const lost = [...(item.lost ?? [item.column]), ...helpers]
  return `(pg_catalog.to_jsonb(t) - ARRAY[${lost.map(quoteLiteral).join(', ')}]::text[]) = k.ddl_undo_rest`
}

async function retypeConflicts(session: Session, item: KeptRetype): Promise<string[]> {
  const name = await relationName(session, item.relid)
  if (name === undefined) return [`${item.relation} no longer exists`]
  await rows(session, `LOCK TABLE ${name} IN SHARE ROW EXCLUSIVE MODE`)
  const column = quoteIdent(item.column)
  const now = await rows<{ type: string | null }>(
    session,
    `SELECT pg_catalog.format_type(a.atttypid, a.atttypmod)
            || CASE WHEN a.attcollation <> t.typcollation THEN ' COLLATE ' || pg_catalog.format('%I.%I', cn.nspname, co.collname) ELSE '' END AS type
       FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
       LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
      WHERE a.attrelid = $1 AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [item.relid, item.column],
  )
  const type = now[0]?.type
  if (type === undefined || type === null) return [`${item.relation} no longer has its column ${column}`]
  if (item.newType !== null && type !== item.newType) {
    return [`${item.relation}.${column} changed type again since the run: it is ${type}, the run left ${item.newType}`]
  }
  const out: string[] = []
  const present = await rows<{ name: string }>(
    session,
    `SELECT pg_catalog.quote_ident(attname) AS name FROM pg_catalog.pg_attribute
      WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped`,
    [item.relid],
  )
  const names = new Set(present.map((p) => p.name))
  for (const k of item.key) if (!names.has(k)) out.push(`${name} no longer has its key column ${k}`)
  if (out.length > 0 || item.newTable === null) return out
  const changed = await rows<{ n: string }>(
    session,
    `SELECT count(*)::text AS n FROM ${name} t JOIN ${qualify('ddl_undo', item.newTable)} k ON ${matchOn(item)}
      WHERE t.${column}::text IS DISTINCT FROM k.${column}::text`,
  )
  const n = Number(changed[0]?.n ?? 0)
  if (n > 0) out.push(`${item.relation}: ${n} value(s) of ${column} were changed since the run`)
  if (item.match === 'row' && item.valuesTable !== null) {
    const gone = await rows<{ n: string }>(
      session,
      `SELECT count(*)::text AS n FROM ${qualify('ddl_undo', item.valuesTable)} k
        WHERE NOT EXISTS (SELECT 1 FROM ${name} t WHERE ${matchOn(item)})`,
    )
    const g = Number(gone[0]?.n ?? 0)
    if (g > 0) {
      out.push(
        `${name}: ${g} row(s) changed or were deleted since the run, so the old values of ${column} cannot be matched back (the table has no primary key)`,
      )
    }
  }
  return out
}

async function schemaConflicts(session: Session, item: KeptSchema): Promise<string[]> {
  const kept = await rows(session, 'SELECT 1 FROM pg_catalog.pg_namespace WHERE oid = $1 AND nspname = $2', [
    item.oid,
    item.keptName,
  ])
  if (kept.length === 0) return [`the kept copy of schema ${quoteIdent(item.name)} is gone`]
  const out: string[] = []
  const again = await rows(session, 'SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1', [item.name])
  if (again.length > 0) out.push(`a new schema named ${quoteIdent(item.name)} exists`)
  for (const fk of item.foreignKeys) {
    if ((await relationName(session, fk.relid)) === undefined) {
      out.push(`the table of foreign key ${quoteIdent(fk.name)} no longer exists`)
    }
  }
  out.push(...(await definitionConflicts(session, item.dependents)))
  return out
}

/**
 * Sets a retyped column back: its old type (old values by key, later rows cast back through text),
 * collation, default and NOT NULL. Postgres rebuilds the indexes and constraints on it.
 */
async function putBackRetype(session: Session, item: KeptRetype): Promise<void> {
  const name = (await relationName(session, item.relid)) ?? item.relation
  const column = quoteIdent(item.column)
  const collate = item.collate === '' ? '' : ` ${item.collate}`
  if (item.generated) {
    await rows(session, `ALTER TABLE ${name} ALTER COLUMN ${column} TYPE ${item.type}${collate}`)
    return
  }
  const identity = await rows<{ identity: string }>(
    session,
    'SELECT attidentity::text AS identity FROM pg_catalog.pg_attribute WHERE attrelid = $1 AND attname = $2',
    [item.relid, item.column],
  )
  if (identity[0]?.identity === '') await rows(session, `ALTER TABLE ${name} ALTER COLUMN ${column} DROP DEFAULT`)
  let using = `${column}::text::${item.type}`
  if (item.valuesTable !== null) {
    // The old values go in helper columns first: USING cannot read another table.
    const helpers = [`${item.valuesTable}_v`, `${item.valuesTable}_k`]
    const value = quoteIdent(helpers[0] ?? '')
    const has = quoteIdent(helpers[1] ?? '')
    await rows(session, `ALTER TABLE ${name} ADD COLUMN ${value} ${item.type}${collate}, ADD COLUMN ${has} boolean`)
    await rows(
      session,
      `UPDATE ${name} t SET ${value} = k.${column}::${item.type}, ${has} = true FROM ${qualify('ddl_undo', item.valuesTable)} k
        WHERE ${matchOn(item, helpers)}`,
    )
    using = `CASE WHEN ${has} THEN ${value} ELSE ${using} END`
    await rows(
      session,
      `ALTER TABLE ${name} ALTER COLUMN ${column} TYPE ${item.type}${collate} USING ${using}, DROP COLUMN ${value}, DROP COLUMN ${has}`,
    )
  } else {
    await rows(session, `ALTER TABLE ${name} ALTER COLUMN ${column} TYPE ${item.type}${collate} USING ${using}`)
  }
  if (item.default !== null)
    await rows(session, `ALTER TABLE ${name} ALTER COLUMN ${column} SET DEFAULT ${item.default}`)
  if (item.notNull) await rows(session, `ALTER TABLE ${name} ALTER COLUMN ${column} SET NOT NULL`)
  await restoreRebuilt(session, item, name)
}

/** Check constraints and indexes whose text came back different from the rebuild: set back as they were. */
async function restoreRebuilt(session: Session, item: KeptRetype, name: string): Promise<void> {
  const schema = await rows<{ schema: string }>(
    session,
    'SELECT pg_catalog.quote_ident(n.nspname) AS schema FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1',
    [item.relid],
  )
  const ns = schema[0]?.schema ?? ''
  // Definitions were read with an empty search path (every name qualified): compared the same way.
  const saved = await rows<{ path: string }>(session, "SELECT pg_catalog.current_setting('search_path') AS path")
  await rows(session, "SELECT pg_catalog.set_config('search_path', '', true)")
  try {
    await setBackRebuilt(session, item, name, ns)
  } finally {
    await rows(session, "SELECT pg_catalog.set_config('search_path', $1, true)", [saved[0]?.path ?? ''])
  }
}

async function setBackRebuilt(session: Session, item: KeptRetype, name: string, ns: string): Promise<void> {
  for (const r of item.rebuilt ?? []) {
    if (r.kind === 'constraint') {
      const now = await rows<{ def: string }>(
        session,
        'SELECT pg_catalog.pg_get_constraintdef(oid) AS def FROM pg_catalog.pg_constraint WHERE conrelid = $1 AND conname = $2',
        [item.relid, r.name],
      )
      if (now[0] === undefined || now[0].def === r.definition) continue
      const constraint = quoteIdent(r.name)
      await rows(
        session,
        `ALTER TABLE ${name} DROP CONSTRAINT ${constraint}, ADD CONSTRAINT ${constraint} ${r.definition}`,
      )
      if (r.comment !== null)
        await rows(session, `COMMENT ON CONSTRAINT ${constraint} ON ${name} IS ${quoteLiteral(r.comment)}`)
    } else {
      const index = `${ns}.${quoteIdent(r.name)}`
      const now = await rows<{ def: string | null }>(
        session,
        `SELECT pg_catalog.pg_get_indexdef(pg_catalog.to_regclass(${quoteLiteral(index)})) AS def`,
      )
      if (now[0]?.def == null || now[0].def === r.definition) continue
      await rows(session, `DROP INDEX ${index}`)
      await rows(session, r.definition)
      if (r.comment !== null) await rows(session, `COMMENT ON INDEX ${index} IS ${quoteLiteral(r.comment)}`)
    }
  }
}

async function putBackColumn(session: Session, item: KeptColumn): Promise<void> {
  const name = (await relationName(session, item.relid)) ?? item.relation
  const column = quoteIdent(item.column)
  await rows(session, `ALTER TABLE ${name} ADD COLUMN ${column} ${item.definition}`)
  // Values of a type the database defines were kept as text: cast them to the column's type.
  const typed = await rows<{ type: string }>(
    session,
    `SELECT pg_catalog.format_type(atttypid, atttypmod) AS type FROM pg_catalog.pg_attribute
      WHERE attrelid = $1 AND attname = $2 AND NOT attisdropped`,
    [item.relid, item.column],
  )
  const cast = typed[0] === undefined ? '' : `::${typed[0].type}`
  if (item.valuesTable !== null && item.match === 'key') {
    const keys = item.key
    await rows(
      session,
      `UPDATE ${name} t SET ${column} = k.${column}${cast} FROM ${qualify('ddl_undo', item.valuesTable)} k
        WHERE (${keys.map((c) => `t.${c}`).join(', ')}) = (${keys.map((c) => `k.${c}`).join(', ')})`,
    )
  } else if (item.valuesTable !== null) {
    const done = await rows<{ n: string }>(
      session,
      `WITH u AS (UPDATE ${name} t SET ${column} = k.${column}${cast} FROM ${qualify('ddl_undo', item.valuesTable)} k
                   WHERE ${matchOn(item)} RETURNING 1)
       SELECT count(*)::text AS n FROM u`,
    )
    const matched = Number(done[0]?.n ?? 0)
    if (matched < item.rows) {
      throw new UndoError(
        `${item.rows - matched} row(s) of ${name} changed or were deleted since the run, so the values of ${column} cannot be matched back (the table has no primary key).`,
        'conflict',
        [`${name}: ${item.rows - matched} row(s) changed or deleted since the run`],
      )
    }
  }
  for (const sql of item.after) await rows(session, sql)
  await putBackDefinitions(session, item.dependents)
}

async function definitionConflicts(session: Session, objects: readonly ObjectDef[]): Promise<string[]> {
  const out: string[] = []
  for (const o of objects) if (await taken(session, o.exists)) out.push(`${o.object} exists again`)
  return out
}

/** The primary key columns of a table, quoted, or [] without one. */
async function keyColumns(session: Session, relid: number): Promise<string[]> {
  const found = await rows<{ col: string }>(
    session,
    `SELECT pg_catalog.quote_ident(a.attname) AS col FROM pg_catalog.pg_index i
       JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = $1 AND i.indisprimary ORDER BY a.attnum`,
    [relid],
  )
  return found.map((r) => r.col)
}

/**
 * Rows whose key is in both the old and the new versions (an UPDATE that kept the key) are set back
 * in place, so rows of other tables that reference them never lose their target. Returns the keys
 * handled (the rest go through delete and insert).
 */
async function updateInPlace(session: Session, item: KeptRows): Promise<string[]> {
  if (item.newTable === null || item.oldTable === null || item.newRows === 0 || item.oldRows === 0) return []
  const key = await keyColumns(session, item.relid)
  if (key.length === 0) return []
  const name = (await relationName(session, item.relid)) ?? item.relation
  const settable = await rows<{ cols: string | null }>(
    session,
    `SELECT pg_catalog.string_agg(pg_catalog.quote_ident(attname), ', ' ORDER BY attnum) AS cols
       FROM pg_catalog.pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
        AND attidentity <> 'a' AND NOT (pg_catalog.quote_ident(attname) = ANY($2))`,
    [item.relid, key],
  )
  const cols = settable[0]?.cols
  const keyList = key.join(', ')
  const oldT = qualify('ddl_undo', item.oldTable)
  const newT = qualify('ddl_undo', item.newTable)
  if (cols !== null && cols !== undefined) {
    const cols1 = cols.split(', ')
    const set =
      cols1.length === 1 ? `${cols1[0]} = o.${cols1[0]}` : `(${cols}) = (${cols1.map((c) => `o.${c}`).join(', ')})`
    await rows(
      session,
      `UPDATE ${name} t SET ${set} FROM ${oldT} o
        WHERE (${key.map((k) => `t.${k}`).join(', ')}) = (${key.map((k) => `o.${k}`).join(', ')})
          AND (${key.map((k) => `o.${k}`).join(', ')}) IN (SELECT ${keyList} FROM ${newT})`,
    )
  }
  return key
}

async function removeNewVersions(session: Session, item: KeptRows, inPlace: readonly string[]): Promise<void> {
  if (item.newTable === null || item.newRows === 0) return
  const name = (await relationName(session, item.relid)) ?? item.relation
  const skip =
    inPlace.length > 0 && item.oldTable !== null
      ? ` WHERE (${inPlace.map((k) => `k.${k}`).join(', ')}) NOT IN (SELECT ${inPlace.join(', ')} FROM ${qualify('ddl_undo', item.oldTable)})`
      : ''
  await rows(
    session,
    `DELETE FROM ${name} WHERE (tableoid, ctid) IN (
       SELECT c.tableoid, c.ctid FROM (
         SELECT t.tableoid, t.ctid, pg_catalog.to_jsonb(t) AS j, row_number() OVER (PARTITION BY pg_catalog.to_jsonb(t)) AS rn FROM ${name} t) c
       JOIN (SELECT pg_catalog.to_jsonb(k) AS j, count(*) AS n FROM ${qualify('ddl_undo', item.newTable)} k${skip} GROUP BY 1) k ON k.j = c.j
       WHERE c.rn <= k.n)`,
  )
}

async function putBackOldVersions(session: Session, item: KeptRows, inPlace: readonly string[]): Promise<void> {
  const name = (await relationName(session, item.relid)) ?? item.relation
  if (item.oldTable !== null && item.oldRows > 0) {
    const cols = await writableColumns(session, name)
    const skip =
      inPlace.length > 0 && item.newTable !== null
        ? ` WHERE (${inPlace.join(', ')}) NOT IN (SELECT ${inPlace.join(', ')} FROM ${qualify('ddl_undo', item.newTable)})`
        : ''
    await rows(
      session,
      `INSERT INTO ${name} (${cols}) OVERRIDING SYSTEM VALUE SELECT ${cols} FROM ${qualify('ddl_undo', item.oldTable)}${skip}`,
    )
  }
  for (const s of item.sequences) {
    await rows(session, 'SELECT pg_catalog.setval($1::oid::regclass, $2::bigint, $3)', [
      s.relid,
      s.lastValue,
      s.isCalled,
    ])
  }
}

async function putBackTable(session: Session, item: KeptTable): Promise<void> {
  await rows(session, `ALTER TABLE ${qualify('ddl_undo', item.keptName)} SET SCHEMA ${quoteIdent(item.schema)}`)
  await rows(session, `ALTER TABLE ${qualify(item.schema, item.keptName)} RENAME TO ${quoteIdent(item.name)}`)
  for (const r of item.renamed) {
    await rows(session, `ALTER ${r.kind} ${qualify(item.schema, r.keptName)} RENAME TO ${quoteIdent(r.name)}`)
  }
}

/** Renames a kept schema back, and gives it its privileges back. */
async function putBackSchema(session: Session, item: KeptSchema): Promise<void> {
  await rows(session, `ALTER SCHEMA ${quoteIdent(item.keptName)} RENAME TO ${quoteIdent(item.name)}`)
  for (const sql of item.grants) await rows(session, sql)
}

async function putBackDefinitions(session: Session, objects: readonly ObjectDef[]): Promise<void> {
  for (const o of objects) for (const sql of o.create) await rows(session, sql)
}

/** What `undo` restored. */
export interface UndoRestore {
  readonly id: string
  readonly objects: readonly string[]
  readonly rows: Readonly<Record<string, number>>
  /** The audit `runId`s of the run that was undone. */
  readonly auditIds: readonly string[]
}

/**
 * Puts back what run `id` kept, in the caller's transaction: checks every item for conflicts first
 * (refusing with all of them listed), then applies each item's inverse, newest first; a server
 * refusal on the way (a key re-inserted since, a foreign key now violated) is a conflict too. The
 * caller rolls back on any error, so a restore is whole or nothing. Throws `UndoError` or the
 * driver's error.
 */
export async function restoreKept(session: Session, id: string): Promise<UndoRestore> {
  if (!(await storeExists(session)))
    throw new UndoError(`No kept run has the id ${id} (nothing has been kept in this database).`, 'not-found')
  const found = await rows<CatalogRow>(session, 'SELECT * FROM ddl_undo.runs WHERE id = $1 FOR UPDATE', [id])
  const row = found[0]
  if (row === undefined) {
    throw new UndoError(
      `No kept run has the id ${id}: it never existed or was purged. ddl undo --list shows what can be undone.`,
      'not-found',
    )
  }
  if (row.restored_at !== null) {
    throw new UndoError(`Run ${id} was already undone at ${row.restored_at.toISOString()}.`, 'already-undone')
  }
  const items = [...row.items].reverse()
  const conflicts: string[] = []
  for (const item of items) conflicts.push(...(await conflictsOf(session, item)))
  if (conflicts.length > 0) throw conflictError(id, conflicts)
  // Newest statement first; within one statement, new versions go child tables first and old
  // versions come back parent tables first (the order the statement's foreign keys need).
  const statements = [...new Set(items.map((i) => i.statement))]
  try {
    for (const index of statements) {
      const group = await parentsFirst(
        session,
        row.items.filter((i) => i.statement === index),
      )
      const inPlace = new Map<KeptItem, string[]>()
      for (const item of group) if (item.kind === 'rows') inPlace.set(item, await updateInPlace(session, item))
      for (const item of [...group].reverse()) {
        if (item.kind === 'rows') await removeNewVersions(session, item, inPlace.get(item) ?? [])
      }
      for (const item of [...group].reverse()) if (item.kind === 'table') await putBackTable(session, item)
      for (const item of group)
        if (item.kind === 'rows') await putBackOldVersions(session, item, inPlace.get(item) ?? [])
      for (const item of [...group].reverse()) if (item.kind === 'schema') await putBackSchema(session, item)
      // Columns first (their old types), then the constraints a statement dropped.
      for (const item of group) {
        if (item.kind === 'column') await putBackColumn(session, item)
        else if (item.kind === 'retype') await putBackRetype(session, item)
      }
      for (const item of group) {
        if (item.kind === 'schema') {
          for (const fk of item.foreignKeys) {
            const on = await relationName(session, fk.relid)
            await rows(session, `ALTER TABLE ${on} ADD CONSTRAINT ${quoteIdent(fk.name)} ${fk.definition}`)
          }
          await putBackDefinitions(session, item.dependents)
        } else if (item.kind === 'table') {
          for (const fk of item.foreignKeys) {
            const on = await relationName(session, fk.relid)
            await rows(session, `ALTER TABLE ${on} ADD CONSTRAINT ${quoteIdent(fk.name)} ${fk.definition}`)
          }
          await putBackDefinitions(session, item.dependents)
        } else if (item.kind === 'definitions') await putBackDefinitions(session, item.objects)
      }
    }
  } catch (error) {
    if (isServerError(error) && /^(23|42P07|42710|42723)/.test(error.code ?? '')) {
      throw conflictError(id, [[error.message, error.detail].filter(Boolean).join(': ')])
    }
    throw error
  }
  for (const table of keptTables(row.items)) {
    await rows(session, `DROP TABLE IF EXISTS ${qualify('ddl_undo', table)}`)
  }
  await rows(session, 'UPDATE ddl_undo.runs SET restored_at = pg_catalog.now() WHERE id = $1', [id])
  return { id, objects: row.objects, rows: row.row_counts, auditIds: row.audit_ids }
}

/** Items ordered so that a table referenced by a foreign key comes before the tables referencing it. */
async function parentsFirst(session: Session, items: readonly KeptItem[]): Promise<KeptItem[]> {
  const relids = items.flatMap((i) => (i.kind === 'rows' ? [i.relid] : []))
  if (relids.length < 2) return [...items]
  const edges = await rows<{ child: string; parent: string }>(
    session,
    `SELECT conrelid::int8::text AS child, confrelid::int8::text AS parent FROM pg_catalog.pg_constraint
      WHERE contype = 'f' AND conrelid = ANY($1::oid[]) AND confrelid = ANY($1::oid[]) AND conrelid <> confrelid`,
    [relids],
  )
  const depth = new Map<number, number>(relids.map((r) => [r, 0]))
  for (let round = 0; round < relids.length; round++) {
    for (const e of edges) {
      const d = (depth.get(Number(e.parent)) ?? 0) + 1
      if (d > (depth.get(Number(e.child)) ?? 0)) depth.set(Number(e.child), d)
    }
  }
  const rank = (i: KeptItem) => (i.kind === 'rows' ? (depth.get(i.relid) ?? 0) : -1)
  return [...items].sort((a, b) => rank(a) - rank(b))
}

function conflictError(id: string, conflicts: readonly string[]): UndoError {
  return new UndoError(
    `Undo ${id} refused: later changes conflict with it. Nothing was restored.\n` +
      conflicts.map((c) => `  - ${c}`).join('\n') +
      '\nResolve them (or undo the later runs first, newest first), then run ddl undo again.',
    'conflict',
    conflicts,
  )
}
