/**
 * Tables and columns this script created itself: they hold only what the script put there, so
 * emptying or overwriting them loses nothing that existed before the script ran (`UPDATE t SET
 * new_column = ...` right after `ADD COLUMN new_column`, a DELETE from a table made three statements
 * earlier). Names are matched as written (`users` and `public.users` are not assumed to be one), and
 * the knowledge is dropped whenever something could make a name point elsewhere or bring old rows in
 * under it: a rename or a move of the table or column, a DROP of it (a temporary table that shadowed
 * an old one is gone, and the name means the old one again), `DISCARD`, a search_path change, code
 * safe-ddl cannot read (DO, CALL, EXECUTE, an unknown or script-defined function), a foreign key from
 * another table that cascades from it, or an old table made its child (`INHERIT`) or partition
 * (`ATTACH PARTITION`): a DELETE, UPDATE or TRUNCATE of the parent reaches the child's rows.
 */
import { absentFromHistory } from './history.js'
import type { RuleContext, ScriptState } from './rule.js'
import type { Finding } from './types.js'
import { type Fields, rangeVarName, unwrap } from './walk.js'

/** What the script created and has not let out of sight since. */
export interface FreshObjects {
  /** Tables, as the parser folded them (`USERS` is `users`, `"USERS"` is not). */
  readonly tables: Set<string>
  /** `table.column`, as the parser folded them. */
  readonly columns: Set<string>
  /** The same columns by table, so that forgetting a table does not scan every column. */
  readonly columnsByTable: Map<string, Set<string>>
  /**
   * Foreign keys whose action writes to the referencing rows (CASCADE, SET NULL, SET DEFAULT), by the
   * referenced table: a DELETE there (or an UPDATE of the referenced columns) reaches the referencing
   * table, which must still be fresh when it runs (a partition attached since brings old rows).
   */
  readonly cascades: Map<string, Cascade[]>
  /**
   * The parents of each table the script made a child or partition (INHERITS, PARTITION OF,
   * INHERIT, ATTACH PARTITION): a DELETE, UPDATE or TRUNCATE of a parent reaches every descendant,
   * so old rows brought in at any depth take every ancestor out of sight.
   */
  readonly parents: Map<string, Set<string>>
  /**
   * `table.column` added by `ALTER TABLE ONLY`, which Postgres refuses while the table has children:
   * no child can hold an old column of that name that the new one merged with.
   */
  readonly childless: Set<string>
}

/** A foreign key of `table` whose action writes there. `columns`: the referenced ones (null: not named). */
interface Cascade {
  readonly table: string
  readonly onDelete: boolean
  readonly onUpdate: boolean
  readonly columns: ReadonlySet<string> | null
}

export function newFreshObjects(): FreshObjects {
  return {
    tables: new Set(),
    columns: new Set(),
    columnsByTable: new Map(),
    cascades: new Map(),
    parents: new Map(),
    childless: new Set(),
  }
}

const CASCADING: ReadonlySet<string> = new Set(['c', 'n', 'd'])

/** Records a foreign key of `table` whose action writes to its rows when the referenced rows change. */
function recordCascade(fresh: FreshObjects, table: string, con: Fields | undefined): void {
  if (con?.contype !== 'CONSTR_FOREIGN') return
  const onDelete = CASCADING.has(String(con.fk_del_action))
  const onUpdate = CASCADING.has(String(con.fk_upd_action))
  if (!onDelete && !onUpdate) return
  const named = (Array.isArray(con.pk_attrs) ? con.pk_attrs : []).map((a) => String(unwrap(a)?.[1].sval ?? ''))
  const target = key(rangeVarName(con.pktable))
  const list = fresh.cascades.get(target) ?? []
  list.push({ table: key(table), onDelete, onUpdate, columns: named.length === 0 ? null : new Set(named) })
  fresh.cascades.set(target, list)
}

/**
 * True when deleting rows of `table` (or updating `columns` of them; undefined: a delete) can write
 * to a table that is not fresh, through foreign keys that cascade, transitively for deletes.
 */
function reachesOldRows(
  fresh: FreshObjects,
  table: string,
  columns?: readonly string[],
  seen = new Set<string>(),
): boolean {
  if (seen.has(table)) return false
  seen.add(table)
  for (const c of fresh.cascades.get(table) ?? []) {
    const hit =
      columns === undefined
        ? c.onDelete
        : c.onUpdate && (c.columns === null || columns.some((col) => c.columns?.has(col) === true))
    if (!hit) continue
    if (!fresh.tables.has(c.table)) return true
    // A delete that cascades deletes there too; an update cascade rewrites the key columns there.
    if (columns === undefined && reachesOldRows(fresh, c.table, undefined, seen)) return true
  }
  return false
}

// The parser already folds unquoted names to lower case; folding again would make `"USERS"` (a new
// table) and `USERS` (the existing `users`) one name.
const key = (name: string) => name

/** Findings after which a name may point elsewhere: code that could rename or re-point it ran. */
const BLIND: ReadonlySet<string> = new Set([
  'unknown-function',
  'call-destructive-function',
  'dangerous-function',
  'deferred-code',
  'dynamic-sql',
  'unreadable-body',
  'execute-prepared',
  'unknown-statement',
])

/** True when a statement's findings say it may run code that could rename or re-point a name. */
export function mayRunCode(findings: readonly Finding[]): boolean {
  return findings.some((f) => BLIND.has(f.rule))
}

function forget(fresh: FreshObjects): void {
  fresh.tables.clear()
  fresh.columns.clear()
  fresh.columnsByTable.clear()
  fresh.cascades.clear()
  fresh.parents.clear()
  fresh.childless.clear()
}

function addParent(fresh: FreshObjects, child: string, parent: string): void {
  if (child === '' || parent === '') return
  const set = fresh.parents.get(key(child))
  if (set === undefined) fresh.parents.set(key(child), new Set([key(parent)]))
  else set.add(key(parent))
}

/** Old rows now sit under `table`: it and every ancestor the script gave it are out of sight. */
function forgetWithAncestors(fresh: FreshObjects, table: string, seen = new Set<string>()): void {
  if (seen.has(key(table))) return
  seen.add(key(table))
  forgetTable(fresh, table)
  for (const parent of fresh.parents.get(key(table)) ?? []) forgetWithAncestors(fresh, parent, seen)
}

function addColumn(fresh: FreshObjects, table: string, column: string): void {
  fresh.columns.add(key(`${table}.${column}`))
  const columns = fresh.columnsByTable.get(key(table))
  if (columns === undefined) fresh.columnsByTable.set(key(table), new Set([column]))
  else columns.add(column)
}

function forgetTable(fresh: FreshObjects, table: string): void {
  fresh.tables.delete(key(table))
  for (const c of fresh.columnsByTable.get(key(table)) ?? []) {
    fresh.columns.delete(key(`${table}.${c}`))
    fresh.childless.delete(key(`${table}.${c}`))
  }
  fresh.columnsByTable.delete(key(table))
}

function columnsOf(elements: unknown): string[] {
  const names: string[] = []
  for (const e of Array.isArray(elements) ? elements : []) {
    const w = unwrap(e)
    if (w?.[0] === 'ColumnDef' && typeof w[1].colname === 'string') names.push(w[1].colname)
  }
  return names
}

/** Records what a top-level statement created, and forgets what it may have re-pointed. */
export function recordFresh(kind: string, node: Fields, state: ScriptState, findings: readonly Finding[]): void {
  const fresh = state.fresh
  if (findings.some((f) => BLIND.has(f.rule))) {
    forget(fresh)
    return
  }
  switch (kind) {
    case 'CreateStmt': {
      const table = rangeVarName(node.relation)
      if (table === '') return
      // IF NOT EXISTS may find an old table with rows, unless the run read the history from its
      // first migration and none created it.
      if (node.if_not_exists === true && !absentFromHistory(state.history, 'table', table)) return
      fresh.tables.add(key(table))
      for (const parent of Array.isArray(node.inhRelations) ? node.inhRelations : [])
        addParent(fresh, table, rangeVarName(unwrap(parent)?.[1] ?? parent))
      for (const c of columnsOf(node.tableElts)) addColumn(fresh, table, c)
      for (const e of Array.isArray(node.tableElts) ? node.tableElts : []) {
        const w = unwrap(e)
        if (w?.[0] === 'Constraint') recordCascade(fresh, table, w[1])
        if (w?.[0] === 'ColumnDef') {
          for (const c of Array.isArray(w[1].constraints) ? w[1].constraints : [])
            recordCascade(fresh, table, unwrap(c)?.[1])
        }
      }
      return
    }
    case 'CreateTableAsStmt': {
      const table = rangeVarName((node.into as Fields | undefined)?.rel)
      if (node.if_not_exists !== true && table !== '') fresh.tables.add(key(table))
      return
    }
    case 'AlterTableStmt': {
      const table = rangeVarName(node.relation)
      for (const c of Array.isArray(node.cmds) ? node.cmds : []) {
        const cmd = unwrap(c)?.[1]
        if (cmd === undefined) continue
        if (cmd.subtype === 'AT_AddColumn') {
          // A new column's own REFERENCES ... ON DELETE CASCADE reaches this table's rows too.
          const def = unwrap(cmd.def)?.[1]
          for (const c of Array.isArray(def?.constraints) ? def.constraints : [])
            recordCascade(fresh, table, unwrap(c)?.[1])
        }
        if (cmd.subtype === 'AT_AddColumn' && cmd.missing_ok !== true) {
          for (const col of columnsOf([cmd.def])) {
            addColumn(fresh, table, col)
            if ((node.relation as Fields | undefined)?.inh !== true) fresh.childless.add(key(`${table}.${col}`))
          }
        } else if (cmd.subtype === 'AT_DropColumn' && typeof cmd.name === 'string') {
          fresh.columns.delete(key(`${table}.${cmd.name}`))
          fresh.childless.delete(key(`${table}.${cmd.name}`))
          fresh.columnsByTable.get(key(table))?.delete(cmd.name)
        } else if (cmd.subtype === 'AT_AddInherit') {
          // ALTER TABLE old INHERIT fresh: the fresh table's scans and writes now reach old rows
          // (a fresh child brings only what the script wrote), and so do its ancestors'.
          const parent = rangeVarName(unwrap(cmd.def)?.[1] ?? cmd.def)
          if (!fresh.tables.has(key(table))) forgetWithAncestors(fresh, parent)
          else addParent(fresh, table, parent)
        } else if (cmd.subtype === 'AT_AttachPartition') {
          // ALTER TABLE fresh ATTACH PARTITION old: likewise.
          const partition = rangeVarName(unwrap(cmd.def)?.[1]?.name ?? (cmd.def as Fields | undefined)?.name)
          if (!fresh.tables.has(key(partition))) forgetWithAncestors(fresh, table)
          else addParent(fresh, partition, table)
        } else if (cmd.subtype === 'AT_AddConstraint') {
          // A foreign key that cascades from a fresh table: a delete there (or an update of the
          // referenced key) reaches this table's rows.
          recordCascade(fresh, table, unwrap(cmd.def)?.[1])
        }
      }
      return
    }
    case 'RenameStmt': {
      const table = rangeVarName(node.relation)
      if (table !== '') forgetTable(fresh, table)
      if (typeof node.newname === 'string') forgetTable(fresh, node.newname)
      return
    }
    case 'AlterObjectSchemaStmt': {
      const table = rangeVarName(node.relation)
      if (table !== '') forgetTable(fresh, table)
      return
    }
    case 'DropStmt':
      // A dropped table's name may now mean an older table it shadowed (a temporary one dropped).
      for (const object of Array.isArray(node.objects) ? node.objects : []) {
        const parts = (unwrap(object)?.[1].items ?? []) as unknown[]
        const name = parts.map((p) => String(unwrap(p)?.[1].sval ?? '')).join('.')
        if (name !== '') forgetTable(fresh, name)
        const last = String(unwrap(parts[parts.length - 1])?.[1].sval ?? '')
        if (last !== '') forgetTable(fresh, last)
      }
      return
    case 'DiscardStmt':
      forget(fresh)
      return
    case 'VariableSetStmt':
      if (String(node.name ?? '').toLowerCase() === 'search_path' || node.kind === 'VAR_RESET_ALL') forget(fresh)
      return
    case 'DoStmt':
    case 'CallStmt':
    case 'ExecuteStmt':
      forget(fresh)
      return
  }
}

/**
 * True when the table was created by this script and has stayed in sight. Never inside a function
 * body: the body runs when it is called, perhaps in a later migration, when the table holds rows.
 */
export function freshTable(state: ScriptState, table: string): boolean {
  return state.bodyCalls === undefined && state.fresh.tables.has(key(table))
}

/**
 * Nodes a data-changing statement can sit under and still run now, as part of the statement: a
 * data-modifying WITH is only allowed at the top of a statement (`WITH x AS (UPDATE ...) ...`), and
 * EXPLAIN ANALYZE runs what it explains. Not a rule's action or a prepared statement (they run later).
 */
const RUNS_NOW: ReadonlySet<string> = new Set([
  'SelectStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'WithClause',
  'CommonTableExpr',
  'ExplainStmt',
])

/** True when this script added the column (or created its table) and has kept it in sight. */
export function freshColumn(state: ScriptState, table: string, column: string): boolean {
  return (
    state.bodyCalls === undefined && (freshTable(state, table) || state.fresh.columns.has(key(`${table}.${column}`)))
  )
}

/** True when an UPDATE's SET names only columns this script added to the table (nothing old is overwritten). */
export function setsOnlyFreshColumns(state: ScriptState, table: string, targetList: unknown): boolean {
  if (state.bodyCalls !== undefined) return false
  const targets = Array.isArray(targetList) ? targetList : []
  if (targets.length === 0) return false
  return targets.every((t) => {
    const name = unwrap(t)?.[1].name
    return typeof name === 'string' && state.fresh.columns.has(key(`${table}.${name}`))
  })
}

/**
 * True when a DELETE or UPDATE can only touch what this script itself wrote: its table was created by
 * the script, or (an UPDATE) every column it sets was added by the script. Nothing that existed before
 * the script is lost, so the data-loss rules stay silent (triggers and rules on the table still count:
 * `deferred-code`).
 */
export function onlyFreshRows(s: { relation?: unknown; targetList?: unknown }, ctx: RuleContext): boolean {
  if (!ctx.ancestors.every((a) => RUNS_NOW.has(a))) return false
  const table = rangeVarName(s.relation)
  if (table === '') return false
  const fresh = ctx.script.fresh
  if (freshTable(ctx.script, table)) {
    if (ctx.nodeType !== 'UpdateStmt') return !reachesOldRows(fresh, key(table))
    const targets = (Array.isArray(s.targetList) ? s.targetList : []).map((t) => String(unwrap(t)?.[1].name ?? ''))
    return !reachesOldRows(fresh, key(table), targets)
  }
  return ctx.nodeType === 'UpdateStmt' && setsOnlyFreshColumns(ctx.script, table, s.targetList)
}

/**
 * For an UPDATE that {@link onlyFreshRows} lets through only because it sets columns the script
 * added to an old table: the table, when an inheritance child may hold an old column of that name
 * (see {@link reachesNoMergedColumn}); undefined otherwise.
 */
export function mayReachChildColumn(
  s: { relation?: unknown; targetList?: unknown },
  ctx: RuleContext,
): string | undefined {
  if (!ctx.ancestors.every((a) => RUNS_NOW.has(a))) return undefined
  const table = rangeVarName(s.relation)
  if (table === '' || freshTable(ctx.script, table)) return undefined
  if (!setsOnlyFreshColumns(ctx.script, table, s.targetList)) return undefined
  return reachesNoMergedColumn(ctx.script, table, s.relation, s.targetList) ? undefined : table
}

/**
 * True when an UPDATE of columns the script added to an old table cannot reach an old child's
 * column. `ALTER TABLE parent ADD COLUMN x` merges with a column `x` an inheritance child already
 * has (its values stay), and `UPDATE parent SET x = ...` then overwrites them (checked on Postgres
 * 17). Proven by `UPDATE ONLY`, by a column added with `ALTER TABLE ONLY` (refused while children
 * exist), or by a run read from its first migration in which no migration gave the table a child.
 */
function reachesNoMergedColumn(state: ScriptState, table: string, relation: unknown, targetList: unknown): boolean {
  if ((relation as Fields | undefined)?.inh !== true) return true
  const targets = (Array.isArray(targetList) ? targetList : []).map((t) => String(unwrap(t)?.[1].name ?? ''))
  if (targets.every((c) => state.fresh.childless.has(key(`${table}.${c}`)))) return true
  return absentFromHistory(state.history, 'parent', table)
}
