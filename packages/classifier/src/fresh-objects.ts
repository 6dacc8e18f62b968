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
import type { RuleContext, ScriptState } from './rule.js'
import type { Finding } from './types.js'
import { type Fields, rangeVarName, unwrap } from './walk.js'

/** What the script created and has not let out of sight since. */
export interface FreshObjects {
  /** Tables, as the parser folded them (`USERS` is `users`, `"USERS"` is not). */
  readonly tables: Set<string>
  /** `table.column`, as the parser folded them. */
  readonly columns: Set<string>
  /**
   * The entries of `columns` by each prefix of theirs that ends before a `.` (`s.t.c` under `s` and
   * `s.t`): what {@link forgetTable} deletes, found without scanning every column (a script of 25,000
   * CREATE and DROP TABLE pairs scanned 25,000 columns per DROP). May name columns since deleted.
   */
  readonly columnsUnder: Map<string, Set<string>>
}

export function newFreshObjects(): FreshObjects {
  return { tables: new Set(), columns: new Set(), columnsUnder: new Map() }
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

function forget(fresh: FreshObjects): void {
  fresh.tables.clear()
  fresh.columns.clear()
  fresh.columnsUnder.clear()
}

function addColumn(fresh: FreshObjects, table: string, column: string): void {
  const c = key(`${table}.${column}`)
  fresh.columns.add(c)
  for (let dot = c.indexOf('.'); dot !== -1; dot = c.indexOf('.', dot + 1)) {
    const prefix = c.slice(0, dot)
    const under = fresh.columnsUnder.get(prefix)
    if (under === undefined) fresh.columnsUnder.set(prefix, new Set([c]))
    else under.add(c)
  }
}

/** Forgets the table and every column whose name starts with `table.`. */
function forgetTable(fresh: FreshObjects, table: string): void {
  fresh.tables.delete(key(table))
  const under = fresh.columnsUnder.get(key(table))
  if (under === undefined) return
  for (const c of under) fresh.columns.delete(c)
  fresh.columnsUnder.delete(key(table))
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
      if (node.if_not_exists === true || table === '') return
      fresh.tables.add(key(table))
      for (const c of columnsOf(node.tableElts)) addColumn(fresh, table, c)
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
        if (cmd.subtype === 'AT_AddColumn' && cmd.missing_ok !== true) {
          for (const col of columnsOf([cmd.def])) addColumn(fresh, table, col)
        } else if (cmd.subtype === 'AT_DropColumn' && typeof cmd.name === 'string') {
          fresh.columns.delete(key(`${table}.${cmd.name}`))
        } else if (cmd.subtype === 'AT_AddInherit') {
          // ALTER TABLE old INHERIT fresh: the fresh table's scans and writes now reach old rows
          // (a fresh child brings only what the script wrote).
          if (!fresh.tables.has(key(table))) forgetTable(fresh, rangeVarName(unwrap(cmd.def)?.[1] ?? cmd.def))
        } else if (cmd.subtype === 'AT_AttachPartition') {
          // ALTER TABLE fresh ATTACH PARTITION old: likewise.
          const partition = rangeVarName(unwrap(cmd.def)?.[1]?.name ?? (cmd.def as Fields | undefined)?.name)
          if (!fresh.tables.has(key(partition))) forgetTable(fresh, table)
        } else if (cmd.subtype === 'AT_AddConstraint') {
          // A foreign key that cascades from a fresh table: a delete there reaches this table's rows.
          const con = unwrap(cmd.def)?.[1]
          const cascades =
            ['c', 'n', 'd'].includes(String(con?.fk_del_action)) || ['c', 'n', 'd'].includes(String(con?.fk_upd_action))
          if (con?.contype === 'CONSTR_FOREIGN' && cascades) forgetTable(fresh, rangeVarName(con.pktable))
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

/** True when the table was created by this script and has stayed in sight. */
export function freshTable(state: ScriptState, table: string): boolean {
  return state.fresh.tables.has(key(table))
}

/** True when an UPDATE's SET names only columns this script added to the table (nothing old is overwritten). */
export function setsOnlyFreshColumns(state: ScriptState, table: string, targetList: unknown): boolean {
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
  if (ctx.ancestors.length > 0) return false
  const table = rangeVarName(s.relation)
  if (table === '') return false
  if (freshTable(ctx.script, table)) return true
  return ctx.statementKind === 'UpdateStmt' && setsOnlyFreshColumns(ctx.script, table, s.targetList)
}
