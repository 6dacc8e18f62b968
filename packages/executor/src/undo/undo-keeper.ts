import type { ClassifiedStatement } from '@ddl/classifier'
import { displayStatement } from '../display.js'
import type { StatementObserver } from '../plan-runner.js'
import type { StatementRun } from '../results.js'
import type { Session } from '../session.js'
import { isServerError } from '../statement-runner.js'
import { alterSubcommands, coverageOf } from './undo-coverage.js'
import { UndoError } from './undo-error.js'
import type { ForeignKeyDef, KeptItem, KeptRows, KeptTable, ObjectDef, UndoSummary } from './undo-items.js'
import { ensureStore, newUndoId, qualify, quoteIdent, quoteLiteral, rows } from './undo-store.js'

/** Settings of a keeper. */
export interface KeeperSettings {
  readonly project: string
  readonly actor: string | undefined
  /** Bytes above which the run is refused (0: no cap). */
  readonly maxBytes: number
}

interface Relation {
  readonly oid: number
  readonly schema: string
  readonly name: string
  readonly relkind: string
  readonly relhassubclass: boolean
  readonly relispartition: boolean
  readonly relpersistence: string
}

interface RangeVarLike {
  readonly schemaname?: unknown
  readonly relname?: unknown
  readonly inh?: unknown
}

const RELATION_SQL = `SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
  c.relhassubclass, c.relispartition, c.relpersistence::text AS relpersistence
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace`

/** The relations with these oids, in the order given. Throws the driver's error. */
async function relationsByOid(session: Session, oids: readonly number[]): Promise<Relation[]> {
  if (oids.length === 0) return []
  const found = await rows<Relation>(session, `${RELATION_SQL} WHERE c.oid = ANY($1::oid[])`, [oids])
  const byOid = new Map(found.map((r) => [Number(r.oid), { ...r, oid: Number(r.oid) }]))
  return oids.flatMap((oid) => byOid.get(oid) ?? [])
}

/** The relation a name resolves to now (search path included), or undefined. */
async function resolveRelation(session: Session, name: string): Promise<Relation | undefined> {
  const oid = await underUserPath(session, () =>
    rows<{ oid: string | null }>(session, 'SELECT pg_catalog.to_regclass($1)::oid::int8::text AS oid', [name]),
  )
  if (oid[0]?.oid == null) return undefined
  const found = await rows<Relation>(session, `${RELATION_SQL} WHERE c.oid = $1`, [Number(oid[0].oid)])
  const first = found[0]
  return first === undefined ? undefined : { ...first, oid: Number(first.oid) }
}

function rangeVarName(range: RangeVarLike): string | undefined {
  if (typeof range.relname !== 'string') return undefined
  return typeof range.schemaname === 'string' ? qualify(range.schemaname, range.relname) : quoteIdent(range.relname)
}

/** Every `relation` of a DELETE, UPDATE or MERGE anywhere in the tree (CTEs included), with the kind. */
function rowWriters(node: unknown, out: { name: string; merge: boolean }[] = []): { name: string; merge: boolean }[] {
  if (Array.isArray(node)) {
    for (const item of node) rowWriters(item, out)
    return out
  }
  if (typeof node !== 'object' || node === null) return out
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if ((key === 'DeleteStmt' || key === 'UpdateStmt' || key === 'MergeStmt') && typeof value === 'object' && value) {
      const relation = (value as { relation?: RangeVarLike }).relation
      const name = relation === undefined ? undefined : rangeVarName(relation)
      if (name !== undefined) out.push({ name, merge: key === 'MergeStmt' })
    }
    rowWriters(value, out)
  }
  return out
}

function dropStmt(statement: ClassifiedStatement): {
  objects: unknown[]
  removeType: string
  cascade: boolean
  missingOk: boolean
} {
  const node = (statement.ast as unknown as { DropStmt?: Record<string, unknown> } | undefined)?.DropStmt ?? {}
  return {
    objects: Array.isArray(node.objects) ? node.objects : [],
    removeType: typeof node.removeType === 'string' ? node.removeType : '',
    cascade: node.behavior === 'DROP_CASCADE',
    missingOk: node.missing_ok === true,
  }
}

/** The name parts of a `List` of `String` nodes (`DROP TABLE s.t` → ['s', 't']). */
function nameParts(object: unknown): string[] {
  const items = (object as { List?: { items?: unknown[] } }).List?.items ?? []
  return items.flatMap((item) => {
    const sval = (item as { String?: { sval?: unknown } }).String?.sval
    return typeof sval === 'string' ? [sval] : []
  })
}

function partsToName(parts: readonly string[]): string {
  return parts.map(quoteIdent).join('.')
}

function cannotKeep(what: string, statement: ClassifiedStatement, flag: string): UndoError {
  return new UndoError(
    `Undo cannot keep what line ${statement.span.line} removes: ${what}. Nothing was changed (the run was rolled back).\n` +
      `To run it without a kept copy, pass ${flag} (recorded in the audit log); see docs/undo.md.`,
    'cannot-keep',
  )
}

/** The search path is emptied while definitions are read, so every name in them comes out qualified. */
async function qualifiedNames<T>(session: Session, work: () => Promise<T>): Promise<T> {
  const outer = userPaths.get(session)
  if (outer !== undefined) return work()
  const saved = await rows<{ path: string }>(session, "SELECT pg_catalog.current_setting('search_path') AS path")
  const path = saved[0]?.path ?? ''
  await rows(session, "SELECT pg_catalog.set_config('search_path', '', true)")
  userPaths.set(session, path)
  try {
    return await work()
  } finally {
    userPaths.delete(session)
    await rows(session, "SELECT pg_catalog.set_config('search_path', $1, true)", [path])
  }
}

/** The caller's search path while {@link qualifiedNames} has emptied it. */
const userPaths = new WeakMap<Session, string>()

/**
 * Runs a name lookup under the caller's search path (as the statement itself will resolve the name),
 * even inside {@link qualifiedNames}.
 */
async function underUserPath<T>(session: Session, lookup: () => Promise<T>): Promise<T> {
  const path = userPaths.get(session)
  if (path === undefined) return lookup()
  await rows(session, "SELECT pg_catalog.set_config('search_path', $1, true)", [path])
  try {
    return await lookup()
  } finally {
    await rows(session, "SELECT pg_catalog.set_config('search_path', '', true)")
  }
}

/** GRANT statements that rebuild an ACL on `target` (`TABLE x`, `FUNCTION f(int)`), after revoking the defaults. */
async function grantsOf(
  session: Session,
  acl: string | null,
  target: string,
  kind: 'TABLE' | 'FUNCTION' | 'TYPE',
): Promise<string[]> {
  if (acl === null) return []
  const entries = await rows<{ grantee: string | null; privilege: string; grantable: boolean }>(
    session,
    `SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.quote_ident(r.rolname) END AS grantee,
            a.privilege_type AS privilege, a.is_grantable AS grantable
       FROM pg_catalog.aclexplode($1::aclitem[]) a LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee`,
    [acl],
  )
  const out = [`REVOKE ALL ON ${target} FROM PUBLIC`]
  if (kind !== 'TABLE') out.push(`REVOKE ALL ON ${target} FROM CURRENT_USER`)
  for (const e of entries) {
    out.push(`GRANT ${e.privilege} ON ${target} TO ${e.grantee ?? 'PUBLIC'}${e.grantable ? ' WITH GRANT OPTION' : ''}`)
  }
  return out
}

/** The catalogs whose objects carry their schema in a column: `[catalog, oid column, schema column]`. */
const NAMESPACED: readonly (readonly [string, string])[] = [
  ['pg_type', 'typnamespace'],
  ['pg_proc', 'pronamespace'],
  ['pg_collation', 'collnamespace'],
  ['pg_operator', 'oprnamespace'],
  ['pg_opclass', 'opcnamespace'],
  ['pg_opfamily', 'opfnamespace'],
  ['pg_conversion', 'connamespace'],
  ['pg_ts_config', 'cfgnamespace'],
  ['pg_ts_dict', 'dictnamespace'],
  ['pg_ts_parser', 'prsnamespace'],
  ['pg_ts_template', 'tmplnamespace'],
  ['pg_statistic_ext', 'stxnamespace'],
  ['pg_default_acl', 'defaclnamespace'],
]

/**
 * SQL for the schema an object (`classid`, `objid` of `pg_depend`) lives in: its own for objects
 * with one, its table's for rules, triggers, policies, defaults and constraints; NULL when unknown.
 */
function namespaceOf(classid: string, objid: string): string {
  const rel = (table: string, column: string) =>
    `(SELECT c.relnamespace FROM pg_catalog.${table} x JOIN pg_catalog.pg_class c ON c.oid = x.${column} WHERE x.oid = ${objid})`
  return `(CASE ${classid}
    WHEN 'pg_catalog.pg_namespace'::regclass THEN ${objid}
    WHEN 'pg_catalog.pg_class'::regclass THEN (SELECT relnamespace FROM pg_catalog.pg_class WHERE oid = ${objid})
    WHEN 'pg_catalog.pg_rewrite'::regclass THEN ${rel('pg_rewrite', 'ev_class')}
    WHEN 'pg_catalog.pg_trigger'::regclass THEN ${rel('pg_trigger', 'tgrelid')}
    WHEN 'pg_catalog.pg_policy'::regclass THEN ${rel('pg_policy', 'polrelid')}
    WHEN 'pg_catalog.pg_attrdef'::regclass THEN ${rel('pg_attrdef', 'adrelid')}
    WHEN 'pg_catalog.pg_constraint'::regclass THEN (SELECT COALESCE(c.relnamespace, t.typnamespace, k.connamespace)
      FROM pg_catalog.pg_constraint k LEFT JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
      LEFT JOIN pg_catalog.pg_type t ON t.oid = k.contypid WHERE k.oid = ${objid})
    ${NAMESPACED.map(([table, column]) => `WHEN 'pg_catalog.${table}'::regclass THEN (SELECT ${column} FROM pg_catalog.${table} WHERE oid = ${objid})`).join('\n    ')}
  END)`
}

/** `to_jsonb(row)` without the columns a statement loses: what finds a row again without a key. */
function restOf(alias: string, lost: readonly string[]): string {
  return `(pg_catalog.to_jsonb(${alias}) - ARRAY[${lost.map(quoteLiteral).join(', ')}]::text[])`
}

interface ColumnType {
  readonly type: string
  readonly collation: string | null
  readonly notnull: boolean
  readonly def: string | null
  readonly identity: string
  readonly generated: string
}

/** A column's type, collation (when not its type's default), NOT NULL, default, identity and generation. */
async function columnType(session: Session, relid: number, column: string): Promise<ColumnType | undefined> {
  const found = await rows<ColumnType>(
    session,
    `SELECT pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
            CASE WHEN a.attcollation <> t.typcollation THEN pg_catalog.format('%I.%I', cn.nspname, co.collname) END AS collation,
            a.attnotnull AS notnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS def,
            a.attidentity::text AS identity, a.attgenerated::text AS generated
       FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
       LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
       LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = $1 AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [relid, column],
  )
  return found[0]
}

/** A column's type as a conflict check compares it: `numeric(12,2)`, `text COLLATE "pg_catalog"."C"`. */
export function typeText(t: Pick<ColumnType, 'type' | 'collation'>): string {
  return t.collation === null ? t.type : `${t.type} COLLATE ${t.collation}`
}

/**
 * Keeps what each statement of a run removes, in the run's own transaction: a `StatementObserver`
 * for the plan runner (`before`, `instead`, `after`) and {@link UndoKeeper.finish} before COMMIT.
 * A failure to keep is stored in {@link UndoKeeper.failure} and stops the run (it rolls back).
 * Creates nothing in the database until a statement needs keeping.
 */
export class UndoKeeper implements StatementObserver {
  readonly id = newUndoId()
  readonly #settings: KeeperSettings
  readonly #flag: string
  readonly #items: KeptItem[] = []
  readonly #statements: { index: number; line: number; statement: string; kind: string }[] = []
  readonly #substituted: { index: number; sent: string }[] = []
  readonly #notKept: { index: number; reason: string }[] = []
  /** Triggers to drop after the current statement. */
  #triggers: string[] = []
  #counter = 0
  #storeReady = false
  /** Set when keeping failed; the caller returns it instead of the run's error. */
  failure: UndoError | undefined

  constructor(settings: KeeperSettings, flag = 'noUndo: true') {
    this.#settings = settings
    this.#flag = flag
  }

  /** True when something was kept. */
  get kept(): boolean {
    return this.#items.length > 0
  }

  async before(session: Session, statement: ClassifiedStatement, index: number): Promise<void> {
    await this.#guard(statement, async () => {
      const coverage = coverageOf(statement)
      switch (coverage.kind) {
        case 'none':
        case 'drop-table':
          return
        case 'not-kept':
          this.#notKept.push({ index, reason: coverage.reason })
          return
        case 'rows':
          return this.#armRowTriggers(session, statement, index)
        case 'truncate':
          return this.#copyBeforeTruncate(session, statement, index)
        case 'definitions':
          return this.#keepDefinitions(session, statement, index, coverage.removeType)
        case 'alter-table':
          if (coverage.notKept !== undefined) this.#notKept.push({ index, reason: coverage.notKept })
          return this.#keepAlterTable(session, statement, index)
        case 'drop-schema':
          return
      }
    })
  }

  async instead(
    session: Session,
    statement: ClassifiedStatement,
    index: number,
  ): Promise<Pick<StatementRun, 'command' | 'rowCount'> | undefined> {
    const kind = coverageOf(statement).kind
    if (kind === 'drop-schema') return this.#guard(statement, () => this.#keepDroppedSchemas(session, statement, index))
    if (kind !== 'drop-table') return undefined
    return this.#guard(statement, () => this.#moveDroppedTables(session, statement, index))
  }

  async after(session: Session, statement: ClassifiedStatement, index: number, run?: StatementRun): Promise<void> {
    await this.#guard(statement, async () => {
      const triggers = this.#triggers
      this.#triggers = []
      for (const drop of triggers) await rows(session, drop)
      await this.#keepRetypedResult(session, index)
      let first = true
      for (const item of this.#items) {
        if (item.kind !== 'rows' || item.statement !== index || item.op !== 'dml') continue
        if (item.oldTable !== null) item.oldRows = await this.#count(session, item.oldTable)
        if (item.newTable !== null) item.newRows = await this.#count(session, item.newTable)
        // The statement's own target is the first item: it cannot report more rows than were captured.
        const reported = run?.rowCount ?? null
        const direct = statement.kind === 'DeleteStmt' || statement.kind === 'UpdateStmt'
        if (first && direct && reported !== null && item.oldRows < reported) {
          throw cannotKeep(
            `${item.relation}: the statement changed ${reported} rows but only ${item.oldRows} were captured`,
            statement,
            this.#flag,
          )
        }
        first = false
      }
      if (this.#items.some((item) => item.statement === index)) await this.#checkSize(session, statement)
    })
  }

  /**
   * Before COMMIT: records the run in `ddl_undo.runs` (when something was kept) and returns what was
   * kept, or `undefined`. Throws the driver's error; a failure here rolls the run back.
   */
  async finish(
    session: Session,
    statements: readonly ClassifiedStatement[],
    auditIds: readonly string[],
  ): Promise<UndoSummary | undefined> {
    if (!this.kept) return undefined
    for (const s of statements) {
      this.#statements.push({
        index: this.#statements.length,
        line: s.span.line,
        statement: displayStatement(s.text),
        kind: s.kind,
      })
    }
    const summary = await this.summary(session)
    await rows(
      session,
      `INSERT INTO ddl_undo.runs (id, actor, project, statements, objects, row_counts, size_bytes, audit_ids, items, not_kept)
       VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7, $8::jsonb, $9::jsonb, $10::jsonb)`,
      [
        this.id,
        this.#settings.actor ?? null,
        this.#settings.project,
        JSON.stringify(
          this.#statements.map((s) => ({ ...s, sent: this.#substituted.find((x) => x.index === s.index)?.sent })),
        ),
        JSON.stringify(summary.objects),
        JSON.stringify(summary.rows),
        summary.sizeBytes,
        JSON.stringify(auditIds),
        JSON.stringify(this.#items),
        JSON.stringify(this.#notKept),
      ],
    )
    return summary
  }

  /** What was kept so far. Throws the driver's error. */
  async summary(session: Session): Promise<UndoSummary> {
    const objects: string[] = []
    const rowCounts: Record<string, number> = {}
    for (const item of this.#items) {
      if (item.kind === 'rows') {
        if (!objects.includes(item.relation)) objects.push(item.relation)
        rowCounts[item.relation] = (rowCounts[item.relation] ?? 0) + item.oldRows
      } else if (item.kind === 'table') {
        objects.push(qualify(item.schema, item.name))
        for (const d of item.dependents) objects.push(d.object)
      } else if (item.kind === 'column') {
        objects.push(`${item.relation}.${quoteIdent(item.column)}`)
        for (const d of item.dependents) objects.push(d.object)
      } else if (item.kind === 'retype') {
        objects.push(`${item.relation}.${quoteIdent(item.column)}`)
        if (item.valuesTable !== null) rowCounts[item.relation] = (rowCounts[item.relation] ?? 0) + item.rows
      } else if (item.kind === 'schema') {
        objects.push(`schema ${quoteIdent(item.name)}`)
        for (const d of item.dependents) objects.push(d.object)
      } else {
        for (const o of item.objects) objects.push(o.object)
      }
    }
    for (const item of this.#items) {
      if (item.kind === 'schema') {
        const tables = await rows<{ name: string }>(
          session,
          "SELECT relname::text AS name FROM pg_catalog.pg_class WHERE relnamespace = $1 AND relkind IN ('r', 'm') ORDER BY relname",
          [item.oid],
        )
        for (const t of tables) {
          const counted = await rows<{ n: string }>(
            session,
            `SELECT count(*)::text AS n FROM ${qualify(item.keptName, t.name)}`,
          )
          rowCounts[qualify(item.name, t.name)] = Number(counted[0]?.n ?? 0)
        }
      }
      if (item.kind === 'table') {
        const counted = await rows<{ n: string }>(
          session,
          `SELECT count(*)::text AS n FROM ${qualify('ddl_undo', item.keptName)}`,
        )
        rowCounts[qualify(item.schema, item.name)] = Number(counted[0]?.n ?? 0)
      }
    }
    return {
      id: this.id,
      objects,
      rows: rowCounts,
      sizeBytes: await this.#size(session),
      substituted: [...this.#substituted],
      notKept: [...this.#notKept],
    }
  }

  /**
   * Runs a keeping step. An `UndoError` is kept as {@link UndoKeeper.failure}; so is a server error
   * of the keeping itself (a missing privilege to create the capture trigger, say), reworded to say
   * it was undo's and how to go without it. Waits that ran out (lock or statement timeout), deadlocks
   * and lost connections are left as they are: their advice is the server's.
   */
  async #guard<T>(statement: ClassifiedStatement, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      if (this.failure === undefined) {
        if (error instanceof UndoError) this.failure = error
        else if (isServerError(error) && !/^(55P03|57014|40P01|40001|08|57P0)/.test(error.code ?? '')) {
          this.failure = cannotKeep(`the server refused it: ${error.message}`, statement, this.#flag)
          throw this.failure
        }
      }
      throw error
    }
  }

  async #store(session: Session): Promise<void> {
    if (this.#storeReady) return
    await ensureStore(session)
    this.#storeReady = true
  }

  #name(suffix: string): string {
    this.#counter += 1
    return `${this.id}_${this.#counter}${suffix}`
  }

  async #count(session: Session, table: string): Promise<number> {
    const found = await rows<{ n: string }>(session, `SELECT count(*)::text AS n FROM ${qualify('ddl_undo', table)}`)
    return Number(found[0]?.n ?? 0)
  }

  async #size(session: Session): Promise<number> {
    let extraBytes = 0
    const tables: string[] = []
    for (const item of this.#items) {
      if (item.kind === 'rows') {
        if (item.oldTable !== null) tables.push(item.oldTable)
        if (item.newTable !== null) tables.push(item.newTable)
      } else if (item.kind === 'table') tables.push(item.keptName)
      else if ((item.kind === 'column' || item.kind === 'retype') && item.valuesTable !== null)
        tables.push(item.valuesTable)
      if (item.kind === 'retype' && item.newTable !== null) tables.push(item.newTable)
    }
    const schemas = this.#items.flatMap((i) => (i.kind === 'schema' ? [i.oid] : []))
    if (schemas.length > 0) {
      const found = await rows<{ bytes: string }>(
        session,
        `SELECT COALESCE(sum(pg_catalog.pg_total_relation_size(c.oid)), 0)::text AS bytes FROM pg_catalog.pg_class c
          WHERE c.relnamespace = ANY($1::oid[]) AND c.relkind IN ('r', 'm', 'S', 'p')`,
        [schemas],
      )
      extraBytes = Number(found[0]?.bytes ?? 0)
    }
    if (tables.length === 0) return extraBytes
    const found = await rows<{ bytes: string }>(
      session,
      `SELECT COALESCE(sum(pg_catalog.pg_total_relation_size(c.oid)), 0)::text AS bytes
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'ddl_undo' AND c.relname = ANY($1)`,
      [tables],
    )
    return Number(found[0]?.bytes ?? 0) + extraBytes
  }

  async #checkSize(session: Session, statement: ClassifiedStatement, extra = 0): Promise<void> {
    const cap = this.#settings.maxBytes
    if (cap <= 0 || (!this.kept && extra === 0)) return
    const size = (await this.#size(session)) + extra
    if (size <= cap) return
    throw new UndoError(
      `Undo would keep ${size} bytes for this run (line ${statement.span.line} and before), above the cap of ${cap} bytes ` +
        '(undo.maxBytes). Nothing was changed (the run was rolled back).\n' +
        `Raise undo.maxBytes in ddl.config.json, or pass ${this.#flag} to run it without a kept copy (recorded in the audit log).`,
      'too-large',
    )
  }

  /** DELETE / UPDATE / MERGE: statement triggers with transition tables copy exactly the rows touched. */
  async #armRowTriggers(session: Session, statement: ClassifiedStatement, index: number): Promise<void> {
    const writers = rowWriters(statement.ast)
    const targets: { relation: Relation; merge: boolean }[] = []
    for (const writer of writers) {
      const relation = await resolveRelation(session, writer.name)
      if (relation === undefined) continue // the statement fails on its own
      targets.push({ relation, merge: writer.merge })
    }
    if (targets.length === 0) return
    // Foreign keys with ON DELETE/UPDATE CASCADE, SET NULL or SET DEFAULT change rows of other tables too.
    const cascaded = await rows<{ oid: string }>(
      session,
      `WITH RECURSIVE r(oid) AS (
         SELECT unnest($1::oid[])
         UNION
         SELECT con.conrelid FROM pg_catalog.pg_constraint con JOIN r ON con.confrelid = r.oid
          WHERE con.contype = 'f' AND con.conparentid = 0
            AND (con.confdeltype IN ('c', 'n', 'd') OR con.confupdtype IN ('c', 'n', 'd')))
       SELECT oid::int8::text FROM r`,
      [targets.map((t) => t.relation.oid)],
    )
    const all = await relationsByOid(
      session,
      cascaded.map((r) => Number(r.oid)),
    )
    for (const relation of all) {
      const name = qualify(relation.schema, relation.name)
      if (relation.relkind !== 'r' && relation.relkind !== 'p') {
        throw cannotKeep(
          `${name} is not a table (a view or foreign table); its rows cannot be captured`,
          statement,
          this.#flag,
        )
      }
      if (relation.relispartition) {
        throw cannotKeep(
          `${name} is a partition; write the statement against its partitioned table`,
          statement,
          this.#flag,
        )
      }
      if (relation.relkind === 'r' && relation.relhassubclass) {
        throw cannotKeep(`${name} has inheritance children`, statement, this.#flag)
      }
      if (relation.relpersistence === 't') continue // a temporary table ends with the session anyway
      await this.#store(session)
      const merge = targets.some((t) => t.merge && t.relation.oid === relation.oid)
      const oldTable = this.#name('_old')
      const newTable = this.#name('_new')
      for (const table of [oldTable, newTable]) {
        await rows(session, `CREATE TABLE ${qualify('ddl_undo', table)} AS SELECT * FROM ${name} WITH NO DATA`)
      }
      const fn = (o: string, n: string) => `ddl_undo.keep_rows(${quoteLiteral(o)}, ${quoteLiteral(n)})`
      const triggers: [string, string][] = [
        [
          'ddl_undo_keep_delete',
          `AFTER DELETE ON ${name} REFERENCING OLD TABLE AS ddl_undo_old FOR EACH STATEMENT EXECUTE FUNCTION ${fn(oldTable, '')}`,
        ],
        [
          'ddl_undo_keep_update',
          `AFTER UPDATE ON ${name} REFERENCING OLD TABLE AS ddl_undo_old NEW TABLE AS ddl_undo_new FOR EACH STATEMENT EXECUTE FUNCTION ${fn(oldTable, newTable)}`,
        ],
      ]
      if (merge) {
        triggers.push([
          'ddl_undo_keep_insert',
          `AFTER INSERT ON ${name} REFERENCING NEW TABLE AS ddl_undo_new FOR EACH STATEMENT EXECUTE FUNCTION ${fn('', newTable)}`,
        ])
      }
      for (const [trigger, body] of triggers) {
        await rows(session, `CREATE TRIGGER ${trigger} ${body}`)
        // ALWAYS: it fires even under session_replication_role = replica.
        await rows(session, `ALTER TABLE ${name} ENABLE ALWAYS TRIGGER ${trigger}`)
        this.#triggers.push(`DROP TRIGGER ${trigger} ON ${name}`)
      }
      const item: KeptRows = {
        kind: 'rows',
        statement: index,
        op: 'dml',
        relid: relation.oid,
        relation: name,
        oldTable,
        newTable,
        oldRows: 0,
        newRows: 0,
        sequences: [],
      }
      this.#items.push(item)
    }
  }

  /** TRUNCATE: every table it empties (named, children, CASCADE) is copied first, with its sequences' values. */
  async #copyBeforeTruncate(session: Session, statement: ClassifiedStatement, index: number): Promise<void> {
    const node =
      (statement.ast as unknown as { TruncateStmt?: Record<string, unknown> } | undefined)?.TruncateStmt ?? {}
    const cascade = node.behavior === 'DROP_CASCADE'
    const relations = Array.isArray(node.relations) ? node.relations : []
    const named: { oid: number; inh: boolean }[] = []
    for (const item of relations) {
      const range = ((item as { RangeVar?: RangeVarLike }).RangeVar ?? item) as RangeVarLike
      const name = rangeVarName(range)
      if (name === undefined) continue
      const relation = await resolveRelation(session, name)
      if (relation !== undefined) named.push({ oid: relation.oid, inh: range.inh !== false })
    }
    if (named.length === 0) return
    const closure = await rows<{ oid: string }>(
      session,
      `WITH RECURSIVE r(oid) AS (
         SELECT unnest($1::oid[])
         UNION
         SELECT x.oid FROM r CROSS JOIN LATERAL (
           SELECT i.inhrelid AS oid FROM pg_catalog.pg_inherits i WHERE i.inhparent = r.oid AND r.oid <> ALL($2::oid[])
           UNION ALL
           SELECT con.conrelid FROM pg_catalog.pg_constraint con
            WHERE $3 AND con.contype = 'f' AND con.confrelid = r.oid AND con.conparentid = 0) x)
       SELECT DISTINCT oid::int8::text FROM r`,
      [named.map((n) => n.oid), named.filter((n) => !n.inh).map((n) => n.oid), cascade],
    )
    const all = await relationsByOid(session, [
      ...named.map((n) => n.oid),
      ...closure.map((r) => Number(r.oid)).filter((o) => !named.some((n) => n.oid === o)),
    ])
    const tables = all.filter((r) => r.relkind === 'r' && r.relpersistence !== 't')
    if (tables.length === 0) return
    if (this.#settings.maxBytes > 0) {
      const estimate = await rows<{ bytes: string }>(
        session,
        'SELECT COALESCE(sum(pg_catalog.pg_total_relation_size(oid)), 0)::text AS bytes FROM pg_catalog.pg_class WHERE oid = ANY($1::oid[])',
        [tables.map((t) => t.oid)],
      )
      await this.#checkSize(session, statement, Number(estimate[0]?.bytes ?? 0))
    }
    await this.#store(session)
    for (const table of tables) {
      const name = qualify(table.schema, table.name)
      const oldTable = this.#name('_old')
      await rows(session, `CREATE TABLE ${qualify('ddl_undo', oldTable)} AS SELECT * FROM ONLY ${name}`)
      const sequences = await rows<{ relid: string; seq: string }>(
        session,
        `SELECT s.oid::int8::text AS relid, pg_catalog.format('%I.%I', n.nspname, s.relname) AS seq
           FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
           JOIN pg_catalog.pg_namespace n ON n.oid = s.relnamespace
          WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
            AND d.refobjid = $1 AND d.deptype IN ('a', 'i')`,
        [table.oid],
      )
      const values: { relid: number; lastValue: string; isCalled: boolean }[] = []
      for (const s of sequences) {
        const v = await rows<{ last_value: string; is_called: boolean }>(
          session,
          `SELECT last_value::text, is_called FROM ${s.seq}`,
        )
        if (v[0] !== undefined)
          values.push({ relid: Number(s.relid), lastValue: v[0].last_value, isCalled: v[0].is_called })
      }
      this.#items.push({
        kind: 'rows',
        statement: index,
        op: 'truncate',
        relid: table.oid,
        relation: name,
        oldTable,
        newTable: null,
        oldRows: await this.#count(session, oldTable),
        newRows: 0,
        sequences: values,
      })
    }
  }

  /**
   * ALTER TABLE: DROP COLUMN ({@link UndoKeeper.#keepDroppedColumn}), ALTER COLUMN ... TYPE
   * ({@link UndoKeeper.#keepRetypedColumn}) and DROP CONSTRAINT ({@link UndoKeeper.#keepDroppedConstraint}),
   * subcommand by subcommand, before the statement.
   */
  async #keepAlterTable(session: Session, statement: ClassifiedStatement, index: number): Promise<void> {
    const node =
      (statement.ast as unknown as { AlterTableStmt?: Record<string, unknown> } | undefined)?.AlterTableStmt ?? {}
    const range = (node.relation ?? {}) as RangeVarLike
    const name = rangeVarName(range)
    if (name === undefined) return
    const relation = await resolveRelation(session, name)
    if (relation === undefined || (relation.relkind !== 'r' && relation.relkind !== 'p')) return
    if (relation.relpersistence === 't') return
    const cmds = alterSubcommands(statement)
    // Columns the statement drops, retypes or adds: rows are never matched by them.
    const lost = cmds.flatMap((c) => {
      if ((c.subtype === 'AT_DropColumn' || c.subtype === 'AT_AlterColumnType') && typeof c.cmd.name === 'string')
        return [c.cmd.name]
      const added = (c.cmd.def as { ColumnDef?: { colname?: unknown } } | undefined)?.ColumnDef?.colname
      return c.subtype === 'AT_AddColumn' && typeof added === 'string' ? [added] : []
    })
    for (const { subtype, cmd } of cmds) {
      if (typeof cmd.name !== 'string') continue
      if (subtype === 'AT_DropColumn')
        await this.#keepDroppedColumn(
          session,
          statement,
          index,
          relation,
          cmd.name,
          cmd.behavior === 'DROP_CASCADE',
          lost,
        )
      else if (subtype === 'AT_AlterColumnType')
        await this.#keepRetypedColumn(session, statement, index, relation, cmd.name, lost)
      else if (subtype === 'AT_DropConstraint')
        await this.#keepDroppedConstraint(
          session,
          statement,
          index,
          relation,
          cmd.name,
          cmd.behavior === 'DROP_CASCADE',
        )
    }
  }

  /**
   * ALTER TABLE ... DROP COLUMN: the dropped column's definition (type, collation, default, NOT
   * NULL, identity, generation, comment, grants), its values by primary key, and the indexes,
   * constraints and (with CASCADE) views that go with it.
   */
  async #keepDroppedColumn(
    session: Session,
    statement: ClassifiedStatement,
    index: number,
    relation: Relation,
    name: string,
    cascade: boolean,
    lost: readonly string[],
  ): Promise<void> {
    const table = qualify(relation.schema, relation.name)
    {
      const found = await rows<{
        attnum: number
        type: string
        collation: string | null
        notnull: boolean
        def: string | null
        identity: string
        generated: string
        comment: string | null
        acl: string | null
      }>(
        session,
        `SELECT a.attnum, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
                CASE WHEN a.attcollation <> t.typcollation THEN pg_catalog.format('%I.%I', cn.nspname, co.collname) END AS collation,
                a.attnotnull AS notnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid) AS def,
                a.attidentity::text AS identity, a.attgenerated::text AS generated,
                pg_catalog.col_description(a.attrelid, a.attnum) AS comment, a.attacl::text AS acl
           FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
           LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
           LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
           LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attrelid = $1 AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
        [relation.oid, name],
      )
      const col = found[0]
      if (col === undefined) return // IF EXISTS skips it, or the server refuses the statement
      const column = quoteIdent(name)
      const children = await rows(session, 'SELECT 1 FROM pg_catalog.pg_inherits WHERE inhparent = $1 LIMIT 1', [
        relation.oid,
      ])
      if (relation.relkind === 'r' && children.length > 0) {
        throw cannotKeep(`${table} has inheritance children`, statement, this.#flag)
      }
      const stored = col.generated === 's'
      const values = stored ? undefined : await this.#valueMatch(session, statement, relation, name, lost)
      // What else goes with the column: indexes and constraints on it, and what depends on it.
      const dependents: ObjectDef[] = []
      await qualifiedNames(session, async () => {
        const constraints = await rows<{ name: string; def: string; index: string | null }>(
          session,
          `SELECT conname::text AS name, pg_catalog.pg_get_constraintdef(oid) AS def, NULLIF(conindid, 0)::int8::text AS index
             FROM pg_catalog.pg_constraint WHERE conrelid = $1 AND $2 = ANY(conkey) AND contype <> 'n' ORDER BY conname`,
          [relation.oid, col.attnum],
        )
        for (const k of constraints) {
          dependents.push({
            object: `constraint ${quoteIdent(k.name)} on ${table}`,
            exists: `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = ${quoteLiteral(table)}::regclass AND conname = ${quoteLiteral(k.name)}) AS taken`,
            create: [`ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(k.name)} ${k.def}`],
          })
        }
        const indexes = await rows<{ oid: string }>(
          session,
          `SELECT indexrelid::int8::text AS oid FROM pg_catalog.pg_index
            WHERE indrelid = $1 AND ($2 = ANY(indkey::int2[]) OR EXISTS (
              SELECT 1 FROM pg_catalog.pg_depend WHERE classid = 'pg_catalog.pg_class'::regclass AND objid = indexrelid
                AND refobjid = $1 AND refobjsubid = $2))
            ORDER BY indexrelid`,
          [relation.oid, col.attnum],
        )
        for (const i of indexes) {
          const def = await this.#indexDef(session, Number(i.oid))
          if (def !== undefined) dependents.push(def)
        }
        const outside = await rows<{
          cls: string
          objid: string
          view: string | null
          contype: string | null
          what: string
        }>(
          session,
          `SELECT d.classid::regclass::text AS cls, d.objid::int8::text AS objid, r.ev_class::int8::text AS view,
                  k.contype::text AS contype, pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) AS what
             FROM pg_catalog.pg_depend d
             LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND r.oid = d.objid
             LEFT JOIN pg_catalog.pg_constraint k ON d.classid = 'pg_catalog.pg_constraint'::regclass AND k.oid = d.objid
            WHERE d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = $1 AND d.refobjsubid = $2 AND d.deptype = 'n'
              AND NOT (d.classid = 'pg_catalog.pg_constraint'::regclass AND k.conrelid = $1)
              AND NOT (d.classid = 'pg_catalog.pg_attrdef'::regclass
                       AND d.objid IN (SELECT oid FROM pg_catalog.pg_attrdef WHERE adrelid = $1 AND adnum = $2))`,
          [relation.oid, col.attnum],
        )
        if (outside.length > 0 && !cascade) return // the server refuses the statement
        const views: number[] = []
        for (const d of outside) {
          if (d.view !== null) views.push(Number(d.view))
          else if (d.contype === 'f') {
            const k = await rows<{ name: string; def: string; on: string }>(
              session,
              `SELECT conname::text AS name, pg_catalog.pg_get_constraintdef(oid) AS def, conrelid::regclass::text AS on
                 FROM pg_catalog.pg_constraint WHERE oid = $1`,
              [Number(d.objid)],
            )
            const fk = k[0]
            if (fk !== undefined) {
              dependents.push({
                object: `constraint ${quoteIdent(fk.name)} on ${fk.on}`,
                exists: `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = ${quoteLiteral(fk.on)}::regclass AND conname = ${quoteLiteral(fk.name)}) AS taken`,
                create: [`ALTER TABLE ${fk.on} ADD CONSTRAINT ${quoteIdent(fk.name)} ${fk.def}`],
              })
            }
          } else
            throw cannotKeep(
              `DROP COLUMN ... CASCADE would also remove ${d.what}, which undo does not keep`,
              statement,
              this.#flag,
            )
        }
        if (views.length > 0) {
          const kept = await this.#dependentViews(session, statement, [...new Set(views)], true, true)
          dependents.push(...kept.defs)
        }
      })
      const definition = stored
        ? `${col.type} GENERATED ALWAYS AS (${col.def ?? 'NULL'}) STORED`
        : `${col.type}${col.collation !== null ? ` COLLATE ${col.collation}` : ''}`
      const after: string[] = []
      if (!stored && col.def !== null && col.identity === '')
        after.push(`ALTER TABLE ${table} ALTER COLUMN ${column} SET DEFAULT ${col.def}`)
      if (col.notnull && !stored) after.push(`ALTER TABLE ${table} ALTER COLUMN ${column} SET NOT NULL`)
      if (col.identity !== '') {
        after.push(
          `ALTER TABLE ${table} ALTER COLUMN ${column} ADD GENERATED ${col.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`,
        )
        const seq = await rows<{ last: string; called: boolean }>(
          session,
          `SELECT last_value::text AS last, is_called AS called FROM pg_catalog.pg_sequences s
             JOIN pg_catalog.pg_class c ON c.relname = s.sequencename
            WHERE c.oid = pg_catalog.pg_get_serial_sequence($1, $2)::regclass AND s.schemaname = (SELECT nspname FROM pg_catalog.pg_namespace WHERE oid = c.relnamespace)`,
          [table, name],
        )
        const v = seq[0]
        if (v !== undefined && v.last !== null) {
          after.push(
            `SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence(${quoteLiteral(table)}, ${quoteLiteral(name)}), ${v.last}, ${v.called})`,
          )
        }
      }
      if (col.comment !== null) after.push(`COMMENT ON COLUMN ${table}.${column} IS ${quoteLiteral(col.comment)}`)
      if (col.acl !== null) {
        const grants = await rows<{ grantee: string | null; privilege: string; grantable: boolean }>(
          session,
          `SELECT CASE WHEN a.grantee = 0 THEN NULL ELSE pg_catalog.quote_ident(r.rolname) END AS grantee,
                  a.privilege_type AS privilege, a.is_grantable AS grantable
             FROM pg_catalog.aclexplode($1::aclitem[]) a LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee`,
          [col.acl],
        )
        for (const g of grants) {
          after.push(
            `GRANT ${g.privilege} (${column}) ON TABLE ${table} TO ${g.grantee ?? 'PUBLIC'}${g.grantable ? ' WITH GRANT OPTION' : ''}`,
          )
        }
      }
      await this.#store(session)
      const kept = values === undefined ? undefined : await this.#copyValues(session, table, name, values, lost)
      this.#items.push({
        kind: 'column',
        statement: index,
        relid: relation.oid,
        relation: table,
        column: name,
        definition,
        after,
        key: values?.key ?? [],
        match: values?.match ?? 'key',
        lost: [...lost],
        valuesTable: kept?.table ?? null,
        rows: kept?.rows ?? 0,
        dependents,
      })
    }
  }

  /**
   * How a column's values find their rows again (the mechanism DROP COLUMN and ALTER COLUMN ... TYPE
   * share): by primary key when the table has one the statement leaves alone, else by the row's
   * other columns (all but `lost`), refused when rows equal in those hold different values.
   */
  async #valueMatch(
    session: Session,
    statement: ClassifiedStatement,
    relation: Relation,
    column: string,
    lost: readonly string[],
  ): Promise<{ key: string[]; match: 'key' | 'row' }> {
    const table = qualify(relation.schema, relation.name)
    const key = await rows<{ col: string; name: string }>(
      session,
      `SELECT pg_catalog.quote_ident(a.attname) AS col, a.attname::text AS name FROM pg_catalog.pg_index i
         JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
        WHERE i.indrelid = $1 AND i.indisprimary ORDER BY a.attnum`,
      [relation.oid],
    )
    if (key.length > 0 && !key.some((k) => lost.includes(k.name))) return { key: key.map((k) => k.col), match: 'key' }
    // Without a usable key, rows are matched by their other columns: each must hold one value.
    const ambiguous = await rows<{ yes: boolean }>(
      session,
      `SELECT EXISTS (SELECT 1 FROM ${table} t GROUP BY ${restOf('t', lost)}
                       HAVING count(DISTINCT pg_catalog.to_jsonb(t) -> $1) > 1) AS yes`,
      [column],
    )
    if (ambiguous[0]?.yes === true) {
      throw cannotKeep(
        `${table}.${quoteIdent(column)} cannot be matched back to its rows: the table has no primary key the statement leaves alone, and rows equal in every other column hold different values`,
        statement,
        this.#flag,
      )
    }
    return { key: [], match: 'row' }
  }

  /** Copies a column's values with what finds their rows (key, or the rest of the row) into `ddl_undo`. */
  async #copyValues(
    session: Session,
    table: string,
    column: string,
    values: { key: readonly string[]; match: 'key' | 'row' },
    lost: readonly string[],
    suffix = '_col',
  ): Promise<{ table: string; rows: number }> {
    const kept = this.#name(suffix)
    const col = quoteIdent(column)
    // A value of a type the database defines (an enum, a domain, a composite) is kept as its text: a
    // kept column of that type would stop the script dropping the type after the change (Prisma's
    // enum migration: new type, ALTER ... TYPE, DROP TYPE old). The restore casts it back.
    const own = await rows<{ own: boolean }>(
      session,
      `SELECT t.typnamespace <> 'pg_catalog'::pg_catalog.regnamespace AS own
         FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
        WHERE a.attrelid = $1::pg_catalog.regclass AND a.attname = $2`,
      [table, column],
    )
    const value = own[0]?.own === false ? col : `${col}::text AS ${col}`
    if (values.match === 'key') {
      await rows(
        session,
        `CREATE TABLE ${qualify('ddl_undo', kept)} AS SELECT ${values.key.join(', ')}, ${value} FROM ${table}`,
      )
      return { table: kept, rows: await this.#count(session, kept) }
    }
    await rows(
      session,
      `CREATE TABLE ${qualify('ddl_undo', kept)} AS
         SELECT DISTINCT ON (${restOf('t', lost)}) ${restOf('t', lost)} AS ddl_undo_rest, t.${value} FROM ${table} t`,
    )
    const all = await rows<{ n: string }>(session, `SELECT count(*)::text AS n FROM ${table}`)
    return { table: kept, rows: Number(all[0]?.n ?? 0) }
  }

  /**
   * ALTER TABLE ... ALTER COLUMN ... TYPE: the old type, collation, default and NOT NULL, and the old
   * values by primary key (or by the rest of the row), before the statement; the values the run
   * left, after it ({@link UndoKeeper.after}). Indexes and constraints on the column are rebuilt by
   * Postgres, both on the change and on the undo.
   */
  async #keepRetypedColumn(
    session: Session,
    statement: ClassifiedStatement,
    index: number,
    relation: Relation,
    name: string,
    lost: readonly string[],
  ): Promise<void> {
    const table = qualify(relation.schema, relation.name)
    const found = await qualifiedNames(session, () => columnType(session, relation.oid, name))
    if (found === undefined) return // the server refuses the statement
    if (relation.relkind === 'r' && relation.relhassubclass) {
      throw cannotKeep(`${table} has inheritance children`, statement, this.#flag)
    }
    const generated = found.generated === 's'
    const values = generated ? undefined : await this.#valueMatch(session, statement, relation, name, lost)
    // Check constraints and plain indexes on the column, whose text Postgres rebuilds from.
    const rebuilt = await qualifiedNames(session, () =>
      rows<{ kind: 'constraint' | 'index'; name: string; definition: string; comment: string | null }>(
        session,
        `SELECT 'constraint' AS kind, k.conname::text AS name, pg_catalog.pg_get_constraintdef(k.oid) AS definition,
                pg_catalog.obj_description(k.oid, 'pg_constraint') AS comment
           FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attname = $2
          WHERE k.conrelid = $1 AND k.contype = 'c' AND a.attnum = ANY(k.conkey)
         UNION ALL
         SELECT 'index', c.relname::text, pg_catalog.pg_get_indexdef(i.indexrelid), pg_catalog.obj_description(i.indexrelid, 'pg_class')
           FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
           JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attname = $2
          WHERE i.indrelid = $1 AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid)
            AND (a.attnum = ANY(i.indkey::int2[]) OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                 WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = i.indexrelid AND d.refobjid = $1 AND d.refobjsubid = a.attnum))
          ORDER BY 1, 2`,
        [relation.oid, name],
      ),
    )
    await this.#store(session)
    const kept = values === undefined ? undefined : await this.#copyValues(session, table, name, values, lost)
    this.#items.push({
      kind: 'retype',
      statement: index,
      relid: relation.oid,
      relation: table,
      column: name,
      type: found.type,
      collate: found.collation === null ? '' : `COLLATE ${found.collation}`,
      default: found.identity === '' && !generated ? found.def : null,
      notNull: found.notnull,
      generated,
      key: values?.key ?? [],
      match: values?.match ?? 'key',
      lost: [...lost],
      valuesTable: kept?.table ?? null,
      rebuilt,
      newTable: null,
      newType: null,
      rows: kept?.rows ?? 0,
    })
  }

  /** After an ALTER COLUMN ... TYPE: the type and the values it left, to see later changes at undo. */
  async #keepRetypedResult(session: Session, index: number): Promise<void> {
    for (const item of this.#items) {
      if (item.kind !== 'retype' || item.statement !== index) continue
      const now = await columnType(session, item.relid, item.column)
      item.newType = now === undefined ? null : typeText(now)
      if (item.valuesTable === null || now === undefined) continue
      const kept = await this.#copyValues(session, item.relation, item.column, item, item.lost, '_new')
      item.newTable = kept.table
    }
  }

  /**
   * ALTER TABLE ... DROP CONSTRAINT: the constraint's definition (`pg_get_constraintdef`; a primary
   * key's or unique constraint's index has its name), comments, and, with CASCADE, the foreign keys
   * and views that depended on it.
   */
  async #keepDroppedConstraint(
    session: Session,
    statement: ClassifiedStatement,
    index: number,
    relation: Relation,
    name: string,
    cascade: boolean,
  ): Promise<void> {
    const table = qualify(relation.schema, relation.name)
    await qualifiedNames(session, async () => {
      const found = await rows<{
        oid: string
        contype: string
        def: string
        comment: string | null
        index: string | null
        indexComment: string | null
        local: boolean
      }>(
        session,
        `SELECT k.oid::int8::text AS oid, k.contype::text AS contype, pg_catalog.pg_get_constraintdef(k.oid) AS def,
                pg_catalog.obj_description(k.oid, 'pg_constraint') AS comment,
                CASE WHEN k.contype IN ('p', 'u', 'x') THEN NULLIF(k.conindid, 0)::int8::text END AS index,
                CASE WHEN k.contype IN ('p', 'u', 'x') AND k.conindid <> 0 THEN pg_catalog.obj_description(k.conindid, 'pg_class') END AS "indexComment",
                k.conislocal AS local
           FROM pg_catalog.pg_constraint k WHERE k.conrelid = $1 AND k.conname = $2`,
        [relation.oid, name],
      )
      const k = found[0]
      if (k === undefined || !k.local) return // IF EXISTS skips it, or the server refuses the statement
      if (relation.relhassubclass) {
        throw cannotKeep(
          `${table} has partitions or inheritance children, whose copies of the constraint are not kept`,
          statement,
          this.#flag,
        )
      }
      const constraint = quoteIdent(name)
      const create = [`ALTER TABLE ${table} ADD CONSTRAINT ${constraint} ${k.def}`]
      if (k.comment !== null)
        create.push(`COMMENT ON CONSTRAINT ${constraint} ON ${table} IS ${quoteLiteral(k.comment)}`)
      const indexName = qualify(relation.schema, name)
      if (k.indexComment !== null) create.push(`COMMENT ON INDEX ${indexName} IS ${quoteLiteral(k.indexComment)}`)
      const objects: ObjectDef[] = [
        {
          object: `constraint ${constraint} on ${table}`,
          exists:
            `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = ${quoteLiteral(table)}::regclass AND conname = ${quoteLiteral(name)})` +
            (k.index !== null ? ` OR pg_catalog.to_regclass(${quoteLiteral(indexName)}) IS NOT NULL` : '') +
            ' AS taken',
          create,
        },
      ]
      // What depends on it: foreign keys on its index, views on the constraint (GROUP BY a key).
      const deps = await rows<{ objid: string; contype: string | null; view: string | null; what: string }>(
        session,
        `SELECT d.objid::int8::text AS objid, c.contype::text AS contype, r.ev_class::int8::text AS view,
                pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) AS what
           FROM pg_catalog.pg_depend d
           LEFT JOIN pg_catalog.pg_constraint c ON d.classid = 'pg_catalog.pg_constraint'::regclass AND c.oid = d.objid
           LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND r.oid = d.objid
          WHERE d.deptype = 'n' AND ((d.refclassid = 'pg_catalog.pg_constraint'::regclass AND d.refobjid = $1)
             OR (d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = $2))
          ORDER BY d.objid`,
        [Number(k.oid), k.index === null ? 0 : Number(k.index)],
      )
      if (deps.length > 0 && !cascade) return // the server refuses the statement
      const views: number[] = []
      for (const d of deps) {
        if (d.contype === 'f') {
          const fk = await rows<{ name: string; def: string; on: string }>(
            session,
            `SELECT conname::text AS name, pg_catalog.pg_get_constraintdef(oid) AS def, conrelid::regclass::text AS on
               FROM pg_catalog.pg_constraint WHERE oid = $1`,
            [Number(d.objid)],
          )
          const f = fk[0]
          if (f === undefined || objects.some((o) => o.object === `constraint ${quoteIdent(f.name)} on ${f.on}`))
            continue
          objects.push({
            object: `constraint ${quoteIdent(f.name)} on ${f.on}`,
            exists: `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = ${quoteLiteral(f.on)}::regclass AND conname = ${quoteLiteral(f.name)}) AS taken`,
            create: [`ALTER TABLE ${f.on} ADD CONSTRAINT ${quoteIdent(f.name)} ${f.def}`],
          })
        } else if (d.view !== null) views.push(Number(d.view))
        else {
          throw cannotKeep(
            `DROP CONSTRAINT ... CASCADE would also remove ${d.what}, which undo does not keep`,
            statement,
            this.#flag,
          )
        }
      }
      if (views.length > 0) {
        const kept = await this.#dependentViews(session, statement, [...new Set(views)], true, true)
        objects.push(...kept.defs)
      }
      await this.#store(session)
      this.#items.push({ kind: 'definitions', statement: index, objects })
    })
  }

  /** DROP VIEW / MATERIALIZED VIEW / INDEX / FUNCTION / PROCEDURE / TRIGGER / POLICY: the definitions. */
  async #keepDefinitions(
    session: Session,
    statement: ClassifiedStatement,
    index: number,
    removeType: string,
  ): Promise<void> {
    const drop = dropStmt(statement)
    const objects: ObjectDef[] = []
    await qualifiedNames(session, async () => {
      for (const object of drop.objects) {
        const defs = await this.#definitionOf(session, statement, removeType, object, drop.cascade)
        if (defs === undefined) {
          if (drop.missingOk) continue
          throw cannotKeep(
            `the object to drop was not found, so its definition could not be kept`,
            statement,
            this.#flag,
          )
        }
        objects.push(...defs)
      }
    })
    if (objects.length === 0) return
    await this.#store(session)
    this.#items.push({ kind: 'definitions', statement: index, objects })
  }

  async #definitionOf(
    session: Session,
    statement: ClassifiedStatement,
    removeType: string,
    object: unknown,
    cascade: boolean,
  ): Promise<ObjectDef[] | undefined> {
    switch (removeType) {
      case 'OBJECT_VIEW':
      case 'OBJECT_MATVIEW': {
        const relation = await resolveRelation(session, partsToName(nameParts(object)))
        if (relation === undefined) return undefined
        const views = await this.#dependentViews(session, statement, [relation.oid], cascade, true)
        return views.defs
      }
      case 'OBJECT_INDEX': {
        const relation = await resolveRelation(session, partsToName(nameParts(object)))
        if (relation === undefined || relation.relkind !== 'i') return undefined
        const deps = await this.#dependentViews(session, statement, [relation.oid], cascade, false)
        const def = await this.#indexDef(session, relation.oid)
        return [...(def === undefined ? [] : [def]), ...deps.fkDefs]
      }
      case 'OBJECT_FUNCTION':
      case 'OBJECT_PROCEDURE':
        return this.#functionDef(session, statement, object, cascade)
      case 'OBJECT_TYPE':
      case 'OBJECT_DOMAIN':
        return this.#typeDef(session, statement, object, cascade)
      case 'OBJECT_SEQUENCE':
        return this.#sequenceDef(session, statement, object, cascade)
      case 'OBJECT_TRIGGER': {
        const parts = nameParts(object)
        const trigger = parts.at(-1) ?? ''
        const table = await resolveRelation(session, partsToName(parts.slice(0, -1)))
        if (table === undefined) return undefined
        const found = await rows<{ def: string; enabled: string; comment: string | null }>(
          session,
          `SELECT pg_catalog.pg_get_triggerdef(t.oid) AS def, t.tgenabled::text AS enabled,
                  pg_catalog.obj_description(t.oid, 'pg_trigger') AS comment
             FROM pg_catalog.pg_trigger t WHERE t.tgrelid = $1 AND t.tgname = $2`,
          [table.oid, trigger],
        )
        const t = found[0]
        if (t === undefined) return undefined
        const on = qualify(table.schema, table.name)
        const create = [t.def]
        const mode = { D: 'DISABLE', R: 'ENABLE REPLICA', A: 'ENABLE ALWAYS' }[t.enabled]
        if (mode !== undefined) create.push(`ALTER TABLE ${on} ${mode} TRIGGER ${quoteIdent(trigger)}`)
        if (t.comment !== null)
          create.push(`COMMENT ON TRIGGER ${quoteIdent(trigger)} ON ${on} IS ${quoteLiteral(t.comment)}`)
        return [
          {
            object: `trigger ${quoteIdent(trigger)} on ${on}`,
            exists: `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger WHERE tgrelid = ${quoteLiteral(on)}::regclass AND tgname = ${quoteLiteral(trigger)}) AS taken`,
            create,
          },
        ]
      }
      case 'OBJECT_POLICY': {
        const parts = nameParts(object)
        const policy = parts.at(-1) ?? ''
        const table = await resolveRelation(session, partsToName(parts.slice(0, -1)))
        if (table === undefined) return undefined
        const found = await rows<{
          cmd: string
          permissive: boolean
          roles: string
          qual: string | null
          check: string | null
          comment: string | null
        }>(
          session,
          `SELECT p.polcmd::text AS cmd, p.polpermissive AS permissive,
                  (SELECT pg_catalog.string_agg(CASE WHEN r = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(r)) END, ', ')
                     FROM pg_catalog.unnest(p.polroles) r) AS roles,
                  pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual,
                  pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS check,
                  pg_catalog.obj_description(p.oid, 'pg_policy') AS comment
             FROM pg_catalog.pg_policy p WHERE p.polrelid = $1 AND p.polname = $2`,
          [table.oid, policy],
        )
        const p = found[0]
        if (p === undefined) return undefined
        const on = qualify(table.schema, table.name)
        const cmd = { r: 'SELECT', a: 'INSERT', w: 'UPDATE', d: 'DELETE', '*': 'ALL' }[p.cmd] ?? 'ALL'
        const create = [
          `CREATE POLICY ${quoteIdent(policy)} ON ${on} AS ${p.permissive ? 'PERMISSIVE' : 'RESTRICTIVE'} FOR ${cmd} TO ${p.roles}` +
            `${p.qual !== null ? ` USING (${p.qual})` : ''}${p.check !== null ? ` WITH CHECK (${p.check})` : ''}`,
        ]
        if (p.comment !== null)
          create.push(`COMMENT ON POLICY ${quoteIdent(policy)} ON ${on} IS ${quoteLiteral(p.comment)}`)
        return [
          {
            object: `policy ${quoteIdent(policy)} on ${on}`,
            exists: `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_policy WHERE polrelid = ${quoteLiteral(on)}::regclass AND polname = ${quoteLiteral(policy)}) AS taken`,
            create,
          },
        ]
      }
      default:
        throw cannotKeep(`${removeType} is not kept`, statement, this.#flag)
    }
  }

  /** A sequence: its options, value, owner, grants, comment and OWNED BY column. */
  async #sequenceDef(
    session: Session,
    statement: ClassifiedStatement,
    object: unknown,
    cascade: boolean,
  ): Promise<ObjectDef[] | undefined> {
    const relation = await resolveRelation(session, partsToName(nameParts(object)))
    if (relation === undefined || relation.relkind !== 'S') return undefined
    const dependents = await rows<{ what: string }>(
      session,
      `SELECT pg_catalog.pg_describe_object(classid, objid, objsubid) AS what FROM pg_catalog.pg_depend
        WHERE refclassid = 'pg_catalog.pg_class'::regclass AND refobjid = $1 AND deptype = 'n'`,
      [relation.oid],
    )
    if (dependents.length > 0 && cascade) {
      throw cannotKeep(
        `DROP ... CASCADE would also remove ${dependents.map((d) => d.what).join(', ')}`,
        statement,
        this.#flag,
      )
    }
    const found = await rows<{
      type: string
      start: string
      inc: string
      min: string
      max: string
      cache: string
      cycle: boolean
      last: string | null
      called: boolean
      owner: string
      acl: string | null
      comment: string | null
      ownedby: string | null
    }>(
      session,
      `SELECT pg_catalog.format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start, s.seqincrement::text AS inc,
              s.seqmin::text AS min, s.seqmax::text AS max, s.seqcache::text AS cache, s.seqcycle AS cycle,
              (SELECT last_value::text FROM pg_catalog.pg_sequences q WHERE q.schemaname = $2 AND q.sequencename = $3) AS last,
              (SELECT q.last_value IS NOT NULL FROM pg_catalog.pg_sequences q WHERE q.schemaname = $2 AND q.sequencename = $3) AS called,
              pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(c.relowner)) AS owner, c.relacl::text AS acl,
              pg_catalog.obj_description(c.oid, 'pg_class') AS comment,
              (SELECT pg_catalog.format('%I.%I.%I', tn.nspname, t.relname, a.attname)
                 FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
                 JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
                 JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
                WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a'
                  AND d.refclassid = 'pg_catalog.pg_class'::regclass) AS ownedby
         FROM pg_catalog.pg_sequence s JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid WHERE s.seqrelid = $1`,
      [relation.oid, relation.schema, relation.name],
    )
    const q = found[0]
    if (q === undefined) return undefined
    const name = qualify(relation.schema, relation.name)
    const create = [
      `CREATE SEQUENCE ${name} AS ${q.type} INCREMENT BY ${q.inc} MINVALUE ${q.min} MAXVALUE ${q.max} START WITH ${q.start} CACHE ${q.cache}${q.cycle ? ' CYCLE' : ' NO CYCLE'}`,
      `ALTER SEQUENCE ${name} OWNER TO ${q.owner}`,
      ...(await grantsOf(session, q.acl, `SEQUENCE ${name}`, 'TYPE')),
    ]
    if (q.last !== null) create.push(`SELECT pg_catalog.setval(${quoteLiteral(name)}, ${q.last}, true)`)
    if (q.ownedby !== null) create.push(`ALTER SEQUENCE ${name} OWNED BY ${q.ownedby}`)
    if (q.comment !== null) create.push(`COMMENT ON SEQUENCE ${name} IS ${quoteLiteral(q.comment)}`)
    return [
      {
        object: `sequence ${name}`,
        exists: `SELECT pg_catalog.to_regclass(${quoteLiteral(name)}) IS NOT NULL AS taken`,
        create,
      },
    ]
  }

  /** An enum, composite or domain type: rebuilt from the catalogs, with owner, grants and comment. */
  async #typeDef(
    session: Session,
    statement: ClassifiedStatement,
    object: unknown,
    cascade: boolean,
  ): Promise<ObjectDef[] | undefined> {
    const names = (object as { TypeName?: { names?: unknown[] } }).TypeName?.names ?? []
    const name = partsToName(nameParts({ List: { items: names } }))
    const found = await rows<{
      oid: string
      name: string
      kind: string
      relid: string
      base: string | null
      def: string | null
      notnull: boolean
      owner: string
      acl: string | null
      comment: string | null
    }>(
      session,
      `SELECT t.oid::int8::text AS oid, pg_catalog.format_type(t.oid, NULL) AS name, t.typtype::text AS kind,
              t.typrelid::int8::text AS relid,
              CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS base,
              t.typdefault AS def, t.typnotnull AS notnull,
              pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(t.typowner)) AS owner, t.typacl::text AS acl,
              pg_catalog.obj_description(t.oid, 'pg_type') AS comment
         FROM pg_catalog.pg_type t WHERE t.oid = $1`,
      [
        await underUserPath(session, async () => {
          const r = await rows<{ oid: string | null }>(
            session,
            'SELECT pg_catalog.to_regtype($1)::oid::int8::text AS oid',
            [name],
          )
          return r[0]?.oid == null ? 0 : Number(r[0].oid)
        }),
      ],
    )
    const t = found[0]
    if (t === undefined) return undefined
    const dependents = await rows<{ what: string }>(
      session,
      `SELECT pg_catalog.pg_describe_object(classid, objid, objsubid) AS what FROM pg_catalog.pg_depend
        WHERE refclassid = 'pg_catalog.pg_type'::regclass AND refobjid = $1 AND deptype = 'n'`,
      [Number(t.oid)],
    )
    if (dependents.length > 0 && cascade) {
      throw cannotKeep(
        `DROP ... CASCADE would also remove ${dependents.map((d) => d.what).join(', ')}`,
        statement,
        this.#flag,
      )
    }
    let create: string
    let word = 'TYPE'
    if (t.kind === 'e') {
      const labels = await rows<{ labels: string | null }>(
        session,
        "SELECT pg_catalog.string_agg(pg_catalog.quote_literal(enumlabel), ', ' ORDER BY enumsortorder) AS labels FROM pg_catalog.pg_enum WHERE enumtypid = $1",
        [Number(t.oid)],
      )
      create = `CREATE TYPE ${t.name} AS ENUM (${labels[0]?.labels ?? ''})`
    } else if (t.kind === 'c') {
      const attrs = await rows<{ attrs: string | null }>(
        session,
        `SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname) || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                  || CASE WHEN a.attcollation <> ty.typcollation
                          THEN ' COLLATE ' || pg_catalog.format('%I.%I', cn.nspname, co.collname) ELSE '' END,
                  ', ' ORDER BY a.attnum) AS attrs
           FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type ty ON ty.oid = a.atttypid
           LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation
           LEFT JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
          WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped`,
        [Number(t.relid)],
      )
      create = `CREATE TYPE ${t.name} AS (${attrs[0]?.attrs ?? ''})`
    } else if (t.kind === 'd') {
      word = 'DOMAIN'
      const checks = await rows<{ name: string; def: string }>(
        session,
        `SELECT conname::text AS name, pg_catalog.pg_get_constraintdef(oid) AS def FROM pg_catalog.pg_constraint
          WHERE contypid = $1 AND contype = 'c' ORDER BY conname`,
        [Number(t.oid)],
      )
      create =
        `CREATE DOMAIN ${t.name} AS ${t.base ?? 'text'}${t.def !== null ? ` DEFAULT ${t.def}` : ''}${t.notnull ? ' NOT NULL' : ''}` +
        checks.map((c) => ` CONSTRAINT ${quoteIdent(c.name)} ${c.def}`).join('')
    } else {
      throw cannotKeep(
        `${t.name} is a ${t.kind === 'r' ? 'range' : 'base'} type, which undo does not keep`,
        statement,
        this.#flag,
      )
    }
    const statements = [create, `ALTER ${word} ${t.name} OWNER TO ${t.owner}`]
    statements.push(...(await grantsOf(session, t.acl, `${word} ${t.name}`, 'TYPE')))
    if (t.comment !== null) statements.push(`COMMENT ON ${word} ${t.name} IS ${quoteLiteral(t.comment)}`)
    return [
      {
        object: `${word.toLowerCase()} ${t.name}`,
        exists: `SELECT pg_catalog.to_regtype(${quoteLiteral(t.name)}) IS NOT NULL AS taken`,
        create: statements,
      },
    ]
  }

  async #indexDef(session: Session, oid: number): Promise<ObjectDef | undefined> {
    const found = await rows<{ def: string; name: string; comment: string | null; constraint: boolean }>(
      session,
      `SELECT pg_catalog.pg_get_indexdef(i.indexrelid) AS def,
              pg_catalog.format('%I.%I', n.nspname, c.relname) AS name,
              pg_catalog.obj_description(i.indexrelid, 'pg_class') AS comment,
              EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid AND k.contype IN ('p', 'u', 'x')) AS constraint
         FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE i.indexrelid = $1`,
      [oid],
    )
    const i = found[0]
    if (i === undefined || i.constraint) return undefined // DROP INDEX of a constraint's index fails on its own
    const create = [i.def]
    if (i.comment !== null) create.push(`COMMENT ON INDEX ${i.name} IS ${quoteLiteral(i.comment)}`)
    return {
      object: `index ${i.name}`,
      exists: `SELECT pg_catalog.to_regclass(${quoteLiteral(i.name)}) IS NOT NULL AS taken`,
      create,
    }
  }

  async #functionDef(
    session: Session,
    statement: ClassifiedStatement,
    object: unknown,
    cascade: boolean,
  ): Promise<ObjectDef[] | undefined> {
    const owa = (
      object as { ObjectWithArgs?: { objname?: unknown[]; objargs?: unknown[]; args_unspecified?: boolean } }
    ).ObjectWithArgs
    if (owa === undefined) return undefined
    const name = partsToName(nameParts({ List: { items: owa.objname ?? [] } }))
    let oid: number | undefined
    if (owa.args_unspecified === true || owa.objargs === undefined) {
      const found = await underUserPath(session, () =>
        rows<{ oid: string | null }>(session, 'SELECT pg_catalog.to_regproc($1)::oid::int8::text AS oid', [name]),
      )
      oid = found[0]?.oid == null ? undefined : Number(found[0].oid)
    } else {
      const types = owa.objargs.map((arg) => {
        const t = (arg as { TypeName?: { names?: unknown[]; arrayBounds?: unknown[]; pct_type?: boolean } }).TypeName
        const parts = nameParts({ List: { items: t?.names ?? [] } })
        return partsToName(parts) + '[]'.repeat(t?.arrayBounds?.length ?? 0)
      })
      const found = await underUserPath(session, () =>
        rows<{ oid: string | null }>(session, 'SELECT pg_catalog.to_regprocedure($1)::oid::int8::text AS oid', [
          `${name}(${types.join(', ')})`,
        ]),
      )
      oid = found[0]?.oid == null ? undefined : Number(found[0].oid)
    }
    if (oid === undefined) return undefined
    const dependents = await rows<{ what: string }>(
      session,
      `SELECT pg_catalog.pg_describe_object(classid, objid, objsubid) AS what FROM pg_catalog.pg_depend
        WHERE refclassid = 'pg_catalog.pg_proc'::regclass AND refobjid = $1 AND deptype = 'n'`,
      [oid],
    )
    if (dependents.length > 0 && cascade) {
      throw cannotKeep(
        `DROP ... CASCADE would also remove ${dependents.map((d) => d.what).join(', ')}`,
        statement,
        this.#flag,
      )
    }
    const found = await rows<{
      def: string
      signature: string
      acl: string | null
      comment: string | null
      owner: string
      kind: string
    }>(
      session,
      `SELECT pg_catalog.pg_get_functiondef(p.oid) AS def, p.oid::regprocedure::text AS signature, p.proacl::text AS acl,
              pg_catalog.obj_description(p.oid, 'pg_proc') AS comment, pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(p.proowner)) AS owner,
              p.prokind::text AS kind
         FROM pg_catalog.pg_proc p WHERE p.oid = $1`,
      [oid],
    )
    const f = found[0]
    if (f === undefined) return undefined
    const word = f.kind === 'p' ? 'PROCEDURE' : 'FUNCTION'
    const target = `${word} ${f.signature}`
    const create = [f.def, `ALTER ${target} OWNER TO ${f.owner}`]
    create.push(...(await grantsOf(session, f.acl, target, 'FUNCTION')))
    if (f.comment !== null) create.push(`COMMENT ON ${target} IS ${quoteLiteral(f.comment)}`)
    return [
      {
        object: `${word.toLowerCase()} ${f.signature}`,
        exists: `SELECT pg_catalog.to_regprocedure(${quoteLiteral(f.signature)}) IS NOT NULL AS taken`,
        create,
      },
    ]
  }

  /**
   * What dropping these relations would take with it: views and materialized views (kept as
   * definitions, in creation order) and foreign keys of other tables (kept as definitions). Anything
   * else a CASCADE would take makes the keep impossible. When `includeSelf`, the relations themselves
   * (views) are kept as definitions too.
   */
  async #dependentViews(
    session: Session,
    statement: ClassifiedStatement,
    roots: readonly number[],
    cascade: boolean,
    includeSelf: boolean,
  ): Promise<{ defs: ObjectDef[]; fks: ForeignKeyDef[]; fkDefs: ObjectDef[]; external: boolean }> {
    const views: number[] = includeSelf ? [...roots] : []
    const fks: ForeignKeyDef[] = []
    const fkDefs: ObjectDef[] = []
    const seen = new Set<number>(roots)
    let frontier = [...roots]
    let external = false
    while (frontier.length > 0) {
      const deps = await rows<{
        cls: string
        objid: string
        view: string | null
        viewkind: string | null
        rulename: string | null
        contype: string | null
        conrelid: string | null
        what: string
      }>(
        session,
        `SELECT d.classid::regclass::text AS cls, d.objid::int8::text AS objid,
                r.ev_class::int8::text AS view, vc.relkind::text AS viewkind, r.rulename::text AS rulename,
                k.contype::text AS contype, k.conrelid::int8::text AS conrelid,
                pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) AS what
           FROM pg_catalog.pg_depend d
           LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND r.oid = d.objid
           LEFT JOIN pg_catalog.pg_class vc ON vc.oid = r.ev_class
           LEFT JOIN pg_catalog.pg_constraint k ON d.classid = 'pg_catalog.pg_constraint'::regclass AND k.oid = d.objid
          WHERE d.deptype = 'n' AND (
                (d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjid = ANY($1::oid[]))
             OR (d.refclassid = 'pg_catalog.pg_type'::regclass AND d.refobjid IN (SELECT reltype FROM pg_catalog.pg_class WHERE oid = ANY($1::oid[]))))
            AND NOT (d.classid = 'pg_catalog.pg_rewrite'::regclass AND r.ev_class = ANY($2::oid[]))
            AND NOT (d.classid = 'pg_catalog.pg_constraint'::regclass AND k.conrelid = ANY($2::oid[]))
            AND NOT (d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = ANY($2::oid[]))
            AND NOT (d.classid = 'pg_catalog.pg_class'::regclass AND d.objid IN (SELECT indexrelid FROM pg_catalog.pg_index WHERE indrelid = ANY($2::oid[])))
            AND NOT (d.classid = 'pg_catalog.pg_attrdef'::regclass AND d.objid IN (SELECT oid FROM pg_catalog.pg_attrdef WHERE adrelid = ANY($2::oid[])))
            AND NOT (d.classid = 'pg_catalog.pg_trigger'::regclass AND d.objid IN (SELECT oid FROM pg_catalog.pg_trigger WHERE tgrelid = ANY($2::oid[])))
            AND NOT (d.classid = 'pg_catalog.pg_policy'::regclass AND d.objid IN (SELECT oid FROM pg_catalog.pg_policy WHERE polrelid = ANY($2::oid[])))`,
        [frontier, [...seen]],
      )
      const next: number[] = []
      for (const d of deps) {
        if (d.view !== null && d.rulename === '_RETURN' && (d.viewkind === 'v' || d.viewkind === 'm')) {
          const oid = Number(d.view)
          if (!seen.has(oid)) {
            seen.add(oid)
            views.push(oid)
            next.push(oid)
          }
          external = true
        } else if (d.contype === 'f' && d.conrelid !== null) {
          external = true
          const found = await rows<{ name: string; def: string; on: string }>(
            session,
            `SELECT conname::text AS name, pg_catalog.pg_get_constraintdef(oid) AS def, conrelid::regclass::text AS on
               FROM pg_catalog.pg_constraint WHERE oid = $1`,
            [Number(d.objid)],
          )
          const k = found[0]
          if (k !== undefined && !fks.some((f) => f.relid === Number(d.conrelid) && f.name === k.name)) {
            fks.push({ relid: Number(d.conrelid), name: k.name, definition: k.def })
            fkDefs.push({
              object: `constraint ${quoteIdent(k.name)} on ${k.on}`,
              exists: `SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = ${quoteLiteral(k.on)}::regclass AND conname = ${quoteLiteral(k.name)}) AS taken`,
              create: [`ALTER TABLE ${k.on} ADD CONSTRAINT ${quoteIdent(k.name)} ${k.def}`],
            })
          }
        } else if (cascade) {
          throw cannotKeep(
            `DROP ... CASCADE would also remove ${d.what}, which undo does not keep`,
            statement,
            this.#flag,
          )
        } else {
          external = true
        }
      }
      frontier = next
    }
    const defs: ObjectDef[] = []
    for (const oid of views) defs.push(await this.#viewDef(session, oid))
    return { defs: [...defs, ...fkDefs], fks, fkDefs, external }
  }

  async #viewDef(session: Session, oid: number): Promise<ObjectDef> {
    const found = await rows<{
      name: string
      kind: string
      def: string
      options: string[] | null
      owner: string
      acl: string | null
      comment: string | null
      populated: boolean
    }>(
      session,
      `SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS kind,
              pg_catalog.pg_get_viewdef(c.oid) AS def, c.reloptions AS options,
              pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(c.relowner)) AS owner, c.relacl::text AS acl,
              pg_catalog.obj_description(c.oid, 'pg_class') AS comment, c.relispopulated AS populated
         FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1`,
      [oid],
    )
    const v = found[0]
    if (v === undefined) throw new UndoError('A view to keep vanished while it was being kept.', 'cannot-keep')
    const matview = v.kind === 'm'
    const word = matview ? 'MATERIALIZED VIEW' : 'VIEW'
    const options = v.options !== null && v.options.length > 0 ? ` WITH (${v.options.join(', ')})` : ''
    const body = v.def.trim().replace(/;$/, '')
    const create = [
      matview
        ? `CREATE MATERIALIZED VIEW ${v.name}${options} AS ${body} WITH ${v.populated ? '' : 'NO '}DATA`
        : `CREATE VIEW ${v.name}${options} AS ${body}`,
      `ALTER ${word} ${v.name} OWNER TO ${v.owner}`,
      ...(await grantsOf(session, v.acl, `TABLE ${v.name}`, 'TABLE')),
    ]
    if (v.comment !== null) create.push(`COMMENT ON ${word} ${v.name} IS ${quoteLiteral(v.comment)}`)
    const columns = await rows<{ col: string; comment: string }>(
      session,
      `SELECT pg_catalog.quote_ident(a.attname) AS col, d.description AS comment FROM pg_catalog.pg_attribute a
         JOIN pg_catalog.pg_description d ON d.objoid = a.attrelid AND d.objsubid = a.attnum AND d.classoid = 'pg_catalog.pg_class'::regclass
        WHERE a.attrelid = $1 AND a.attnum > 0 ORDER BY a.attnum`,
      [oid],
    )
    for (const c of columns) create.push(`COMMENT ON COLUMN ${v.name}.${c.col} IS ${quoteLiteral(c.comment)}`)
    if (matview) {
      const indexes = await rows<{ oid: string }>(
        session,
        'SELECT indexrelid::int8::text AS oid FROM pg_catalog.pg_index WHERE indrelid = $1',
        [oid],
      )
      for (const i of indexes) {
        const def = await this.#indexDef(session, Number(i.oid))
        if (def !== undefined) create.push(...def.create)
      }
    }
    const triggers = await rows<{ def: string }>(
      session,
      'SELECT pg_catalog.pg_get_triggerdef(oid) AS def FROM pg_catalog.pg_trigger WHERE tgrelid = $1 AND NOT tgisinternal',
      [oid],
    )
    for (const t of triggers) create.push(t.def)
    return {
      object: `${word.toLowerCase()} ${v.name}`,
      exists: `SELECT pg_catalog.to_regclass(${quoteLiteral(v.name)}) IS NOT NULL AS taken`,
      create,
    }
  }

  /**
   * DROP SCHEMA: instead of dropping, each schema is renamed to a kept name (`ddl_undo_<id>_<n>`),
   * with everything in it (tables with their rows, views, functions, types, sequences with their
   * values, privileges and comments), and its privileges are revoked while it is kept. What its
   * CASCADE would have removed outside it is dropped, with its definition kept: views and foreign
   * keys; anything else outside it makes the keep impossible (`cannot-keep`), as does an extension
   * or publication the schema is part of. Returns undefined to send the statement as written (a
   * missing schema, or RESTRICT on a schema that is not empty: the server reports them).
   */
  async #keepDroppedSchemas(
    session: Session,
    statement: ClassifiedStatement,
    index: number,
  ): Promise<Pick<StatementRun, 'command' | 'rowCount'> | undefined> {
    const drop = dropStmt(statement)
    const schemas: { oid: number; name: string; acl: string | null; owner: string }[] = []
    for (const object of drop.objects) {
      const name = (object as { String?: { sval?: unknown } }).String?.sval
      if (typeof name !== 'string') return undefined
      const found = await rows<{ oid: string; acl: string | null; owner: string }>(
        session,
        'SELECT oid::int8::text AS oid, nspacl::text AS acl, nspowner::int8::text AS owner FROM pg_catalog.pg_namespace WHERE nspname = $1',
        [name],
      )
      const n = found[0]
      if (n === undefined) {
        if (drop.missingOk) continue
        return undefined
      }
      if (name === 'ddl_undo' || /^ddl_undo_u[0-9a-f]{12}_\d+$/.test(name)) {
        throw cannotKeep(`schema ${quoteIdent(name)} holds undo's own kept copies`, statement, this.#flag)
      }
      if (name.startsWith('pg_') || name === 'information_schema') return undefined // the server refuses it
      if (!schemas.some((x) => x.name === name)) schemas.push({ oid: Number(n.oid), name, acl: n.acl, owner: n.owner })
    }
    if (schemas.length === 0) return undefined
    const oids = schemas.map((x) => x.oid)
    const members = await rows<{ n: string }>(
      session,
      `SELECT count(*)::text AS n FROM pg_catalog.pg_depend
        WHERE refclassid = 'pg_catalog.pg_namespace'::regclass AND refobjid = ANY($1::oid[])`,
      [oids],
    )
    if (!drop.cascade && Number(members[0]?.n ?? 0) > 0) return undefined // the server refuses it: not empty
    const blockers = await rows<{ why: string }>(
      session,
      `SELECT pg_catalog.format('extension %I is installed in schema %I', e.extname, e.extnamespace::regnamespace::text) AS why
         FROM pg_catalog.pg_extension e WHERE e.extnamespace = ANY($1::oid[])
       UNION ALL
       SELECT pg_catalog.pg_describe_object(m.classid, m.objid, 0) || ' belongs to an extension'
         FROM pg_catalog.pg_depend m JOIN pg_catalog.pg_depend e ON e.classid = m.classid AND e.objid = m.objid AND e.deptype = 'e'
        WHERE m.refclassid = 'pg_catalog.pg_namespace'::regclass AND m.refobjid = ANY($1::oid[])
       UNION ALL
       SELECT pg_catalog.format('schema %I is in publication %I', pn.pnnspid::regnamespace::text, p.pubname)
         FROM pg_catalog.pg_publication_namespace pn JOIN pg_catalog.pg_publication p ON p.oid = pn.pnpubid
        WHERE pn.pnnspid = ANY($1::oid[])
       UNION ALL
       SELECT pg_catalog.format('table %I.%I is in publication %I', c.relnamespace::regnamespace::text, c.relname, p.pubname)
         FROM pg_catalog.pg_publication_rel pr JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
         JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid WHERE c.relnamespace = ANY($1::oid[])
       LIMIT 1`,
      [oids],
    )
    if (blockers[0] !== undefined) throw cannotKeep(blockers[0].why, statement, this.#flag)
    // What depends, from outside the schemas, on something in them: a CASCADE would drop it.
    const outside = await qualifiedNames(session, async () => {
      const deps = await rows<{
        objid: string
        view: string | null
        viewkind: string | null
        rulename: string | null
        contype: string | null
        conrelid: string | null
        what: string
      }>(
        session,
        `SELECT DISTINCT d.objid::int8::text AS objid, r.ev_class::int8::text AS view, vc.relkind::text AS viewkind,
                r.rulename::text AS rulename, k.contype::text AS contype, k.conrelid::int8::text AS conrelid,
                pg_catalog.pg_describe_object(d.classid, d.objid, d.objsubid) AS what
           FROM pg_catalog.pg_depend d
           LEFT JOIN pg_catalog.pg_rewrite r ON d.classid = 'pg_catalog.pg_rewrite'::regclass AND r.oid = d.objid
           LEFT JOIN pg_catalog.pg_class vc ON vc.oid = r.ev_class
           LEFT JOIN pg_catalog.pg_constraint k ON d.classid = 'pg_catalog.pg_constraint'::regclass AND k.oid = d.objid
          WHERE d.deptype IN ('n', 'a') AND ${namespaceOf('d.refclassid', 'd.refobjid')} = ANY($1::oid[])
            AND COALESCE(${namespaceOf('d.classid', 'd.objid')} <> ALL($1::oid[]), true)
          ORDER BY 1`,
        [oids],
      )
      const views: number[] = []
      const fks: ForeignKeyDef[] = []
      for (const d of deps) {
        if (d.view !== null && d.rulename === '_RETURN' && (d.viewkind === 'v' || d.viewkind === 'm')) {
          if (!views.includes(Number(d.view))) views.push(Number(d.view))
        } else if (d.contype === 'f' && d.conrelid !== null) {
          const found = await rows<{ name: string; def: string; on: string }>(
            session,
            `SELECT conname::text AS name, pg_catalog.pg_get_constraintdef(oid) AS def, conrelid::regclass::text AS on
               FROM pg_catalog.pg_constraint WHERE oid = $1`,
            [Number(d.objid)],
          )
          const k = found[0]
          if (k !== undefined && !fks.some((f) => f.relid === Number(d.conrelid) && f.name === k.name)) {
            fks.push({ relid: Number(d.conrelid), name: k.name, definition: k.def })
          }
        } else {
          throw cannotKeep(
            `DROP SCHEMA ... CASCADE would also remove ${d.what}, outside the schema, which undo does not keep`,
            statement,
            this.#flag,
          )
        }
      }
      const kept = views.length > 0 ? await this.#dependentViews(session, statement, views, true, true) : undefined
      return { fks, views: kept?.defs ?? [] }
    })
    await this.#store(session)
    const sent: string[] = []
    const exec = async (sql: string) => {
      await rows(session, sql)
      sent.push(sql)
    }
    for (const view of outside.views.filter((d) => !d.object.startsWith('constraint')).reverse()) {
      const word = view.object.startsWith('materialized view') ? 'MATERIALIZED VIEW' : 'VIEW'
      await exec(`DROP ${word} IF EXISTS ${view.object.slice(word.length + 1)} CASCADE`)
    }
    for (const fk of outside.fks) {
      const on = await rows<{ on: string }>(
        session,
        `SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS on FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1`,
        [fk.relid],
      )
      await exec(`ALTER TABLE ${on[0]?.on} DROP CONSTRAINT ${quoteIdent(fk.name)}`)
    }
    let first = true
    for (const schema of schemas) {
      const keptName = `ddl_undo_${this.#name('')}`
      const grants = await grantsOf(session, schema.acl, `SCHEMA ${quoteIdent(schema.name)}`, 'TYPE')
      // While kept, only its owner reaches it (as with ddl_undo).
      const grantees = await rows<{ grantee: string }>(
        session,
        `SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(r.rolname) END AS grantee
           FROM pg_catalog.aclexplode($1::aclitem[]) a LEFT JOIN pg_catalog.pg_roles r ON r.oid = a.grantee
          WHERE a.grantee <> $2::oid`,
        [schema.acl, schema.owner],
      )
      for (const g of grantees) await exec(`REVOKE ALL ON SCHEMA ${quoteIdent(schema.name)} FROM ${g.grantee} CASCADE`)
      await exec(`ALTER SCHEMA ${quoteIdent(schema.name)} RENAME TO ${quoteIdent(keptName)}`)
      this.#items.push({
        kind: 'schema',
        statement: index,
        oid: schema.oid,
        name: schema.name,
        keptName,
        grants,
        foreignKeys: first ? outside.fks : [],
        dependents: first ? outside.views : [],
      })
      first = false
    }
    this.#substituted.push({ index, sent: sent.join('; ') })
    await this.#checkSize(session, statement)
    return { command: 'DROP', rowCount: null }
  }

  /**
   * DROP TABLE: instead of dropping, each named table is renamed (with its indexes and owned
   * sequences) and moved into `ddl_undo`, after dropping what the DROP would have taken with it (views
   * and foreign keys; only with CASCADE). Returns undefined to send the statement as written: when a
   * named table is missing (the server then reports it, or IF EXISTS skips it), when it is temporary,
   * or when RESTRICT meets dependents (the server refuses it).
   */
  async #moveDroppedTables(
    session: Session,
    statement: ClassifiedStatement,
    index: number,
  ): Promise<Pick<StatementRun, 'command' | 'rowCount'> | undefined> {
    const drop = dropStmt(statement)
    const tables: Relation[] = []
    for (const object of drop.objects) {
      const relation = await resolveRelation(session, partsToName(nameParts(object)))
      if (relation === undefined || relation.relkind !== 'r') {
        if (drop.missingOk && relation === undefined) continue
        return undefined
      }
      if (relation.relpersistence === 't') return undefined
      if (!tables.some((t) => t.oid === relation.oid)) tables.push(relation)
    }
    if (tables.length === 0) return undefined
    for (const t of tables) {
      const name = qualify(t.schema, t.name)
      const blockers = await rows<{ why: string }>(
        session,
        `SELECT 'it is partitioned, a partition or part of an inheritance tree' AS why FROM pg_catalog.pg_inherits WHERE inhrelid = $1 OR inhparent = $1
         UNION ALL SELECT 'it is in a publication' FROM pg_catalog.pg_publication_rel WHERE prrelid = $1
         UNION ALL SELECT 'it belongs to an extension' FROM pg_catalog.pg_depend WHERE classid = 'pg_catalog.pg_class'::regclass AND objid = $1 AND deptype = 'e'`,
        [t.oid],
      )
      if (blockers[0] !== undefined) throw cannotKeep(`${name}: ${blockers[0].why}`, statement, this.#flag)
    }
    const oids = tables.map((t) => t.oid)
    // Owned sequences are part of the table here: a default of another table using one is a dependent.
    const owned = await rows<{ oid: string; name: string; table: string }>(
      session,
      `SELECT s.oid::int8::text AS oid, s.relname::text AS name, d.refobjid::int8::text AS table FROM pg_catalog.pg_depend d
         JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.refclassid = 'pg_catalog.pg_class'::regclass
          AND d.refobjid = ANY($1::oid[]) AND d.deptype IN ('a', 'i')`,
      [oids],
    )
    const parts = [...oids, ...owned.map((s) => Number(s.oid))]
    const deps = await qualifiedNames(session, () =>
      this.#dependentViews(session, statement, parts, drop.cascade, false),
    )
    if (deps.external && !drop.cascade) return undefined // the server refuses it: other objects depend on it
    // Foreign keys from the tables to others: their checks on the other side end with the drop.
    const outgoing = await qualifiedNames(session, () =>
      rows<{ relid: string; name: string; def: string }>(
        session,
        `SELECT conrelid::int8::text AS relid, conname::text AS name, pg_catalog.pg_get_constraintdef(oid) AS def
           FROM pg_catalog.pg_constraint WHERE contype = 'f' AND conrelid = ANY($1::oid[]) AND NOT confrelid = ANY($1::oid[])`,
        [oids],
      ),
    )
    await this.#store(session)
    const sent: string[] = []
    const exec = async (sql: string) => {
      await rows(session, sql)
      sent.push(sql)
    }
    for (const view of deps.defs.filter((d) => !d.object.startsWith('constraint')).reverse()) {
      const word = view.object.startsWith('materialized view') ? 'MATERIALIZED VIEW' : 'VIEW'
      const name = view.object.slice(word.length + 1)
      await exec(`DROP ${word} IF EXISTS ${name} CASCADE`)
    }
    const foreignKeys: ForeignKeyDef[] = []
    for (const fk of [
      ...deps.fks,
      ...outgoing.map((o) => ({ relid: Number(o.relid), name: o.name, definition: o.def })),
    ]) {
      const on = await rows<{ on: string }>(
        session,
        `SELECT pg_catalog.format('%I.%I', n.nspname, c.relname) AS on FROM pg_catalog.pg_class c
           JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1`,
        [fk.relid],
      )
      await exec(`ALTER TABLE ${on[0]?.on} DROP CONSTRAINT ${quoteIdent(fk.name)}`)
      foreignKeys.push(fk)
    }
    let first = true
    for (const t of tables) {
      const keptName = this.#name('')
      const renamed: KeptTable['renamed'][number][] = []
      const indexes = await rows<{ name: string }>(
        session,
        `SELECT c.relname::text AS name FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
          WHERE i.indrelid = $1 ORDER BY c.oid`,
        [t.oid],
      )
      let k = 0
      for (const i of indexes) {
        k += 1
        const kept = `${keptName}_i${k}`
        await exec(`ALTER INDEX ${qualify(t.schema, i.name)} RENAME TO ${quoteIdent(kept)}`)
        renamed.push({ kind: 'INDEX', name: i.name, keptName: kept })
      }
      for (const s of owned.filter((o) => Number(o.table) === t.oid)) {
        k += 1
        const kept = `${keptName}_s${k}`
        await exec(`ALTER SEQUENCE ${qualify(t.schema, s.name)} RENAME TO ${quoteIdent(kept)}`)
        renamed.push({ kind: 'SEQUENCE', name: s.name, keptName: kept })
      }
      await exec(`ALTER TABLE ${qualify(t.schema, t.name)} RENAME TO ${quoteIdent(keptName)}`)
      await exec(`ALTER TABLE ${qualify(t.schema, keptName)} SET SCHEMA ddl_undo`)
      this.#items.push({
        kind: 'table',
        statement: index,
        relid: t.oid,
        schema: t.schema,
        name: t.name,
        keptName,
        renamed,
        foreignKeys: first ? foreignKeys : [],
        dependents: first ? deps.defs.filter((d) => !d.object.startsWith('constraint')) : [],
      })
      first = false
    }
    this.#substituted.push({ index, sent: sent.join('; ') })
    await this.#checkSize(session, statement)
    return { command: 'DROP', rowCount: null }
  }
}
