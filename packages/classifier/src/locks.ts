/**
 * The table-level locks a statement takes on relations that exist before it runs, in Postgres's own
 * names, and whether it rewrites or scans a table while holding them. Read from the parse tree alone:
 * the levels follow Postgres's code (AlterTableGetLockLevel and the reloptions' lock modes in
 * tablecmds.c and reloptions.c, DefineIndex, RemoveRelations, ExecuteTruncate, CreateTrigger, ...), and
 * `test/locks.int.test.ts` checks them against what a real server takes.
 */
import { addColumnRewrite, columnConstraints, typeChangeRewrites } from './column-types.js'
import type { LockMode } from './types.js'
import { type Fields, nameOf, rangeVarName, unwrap, walk } from './walk.js'

/** Lock modes, strongest first. */
export const LOCK_MODES: readonly LockMode[] = [
  'AccessExclusiveLock',
  'ExclusiveLock',
  'ShareRowExclusiveLock',
  'ShareLock',
  'ShareUpdateExclusiveLock',
  'RowExclusiveLock',
  'RowShareLock',
  'AccessShareLock',
]

/** The stronger of two lock modes (`null` is no lock). */
export function strongerLock(a: LockMode | null, b: LockMode | null): LockMode | null {
  if (a === null) return b
  if (b === null) return a
  return LOCK_MODES.indexOf(a) <= LOCK_MODES.indexOf(b) ? a : b
}

/** True for modes that conflict with ROW EXCLUSIVE: while one is held or queued, writes wait. */
export function blocksWrites(mode: LockMode | null): boolean {
  return mode !== null && LOCK_MODES.indexOf(mode) <= LOCK_MODES.indexOf('ShareLock')
}

/** The LOCK TABLE modes by number (lockdefs.h). */
const LOCK_NUMBERS: Record<number, LockMode> = {
  1: 'AccessShareLock',
  2: 'RowShareLock',
  3: 'RowExclusiveLock',
  4: 'ShareUpdateExclusiveLock',
  5: 'ShareLock',
  6: 'ShareRowExclusiveLock',
  7: 'ExclusiveLock',
  8: 'AccessExclusiveLock',
}

/** The SQL spelling of a mode: `AccessExclusiveLock` -> `ACCESS EXCLUSIVE`. */
export function lockWords(mode: LockMode): string {
  return mode
    .replace(/Lock$/, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toUpperCase()
}

/** `an ACCESS EXCLUSIVE`, `a SHARE`: the words with their article. */
export function withArticle(words: string): string {
  return `${/^[AEIOU]/.test(words) ? 'an' : 'a'} ${words}`
}

/** One relation and the strongest lock the statement takes on it. */
export interface RelationLock {
  /** As written in the statement (`public.users`, `users`). */
  readonly relation: string
  readonly mode: LockMode
}

/** What a statement takes and does. */
export interface StatementLocks {
  /** The strongest lock on any existing relation, or `null`. */
  readonly lock: LockMode | null
  /** The named relations and their modes, in the order first named. */
  readonly relations: readonly RelationLock[]
  /** Postgres rewrites the table or its indexes (a rewrite also reads every row). */
  readonly rewrite: boolean
  /** Every row is read while the lock is held. */
  readonly scan: boolean
}

class Effects {
  readonly named = new Map<string, LockMode>()
  lock: LockMode | null = null
  rewrite = false
  scan = false

  /** A lock on a named relation. */
  take(relation: string, mode: LockMode): void {
    this.lock = strongerLock(this.lock, mode)
    if (relation === '') return
    this.named.set(relation, strongerLock(this.named.get(relation) ?? null, mode) ?? mode)
  }

  /** A lock on relations the statement does not name (every table of a schema, of a domain, ...). */
  unnamed(mode: LockMode): void {
    this.lock = strongerLock(this.lock, mode)
  }

  result(): StatementLocks {
    return {
      lock: this.lock,
      relations: [...this.named].map(([relation, mode]) => ({ relation, mode })),
      rewrite: this.rewrite,
      scan: this.scan || this.rewrite,
    }
  }
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : []
}

/** RangeVar-like fields of a node that is either wrapped (`{ RangeVar: {...} }`) or bare. */
function relationOf(value: unknown): string {
  const w = unwrap(value)
  return rangeVarName(w?.[0] === 'RangeVar' ? w[1] : value)
}

/**
 * Locks of a query and the DML in it: ACCESS SHARE on every relation read, ROW SHARE on rows locked
 * with FOR UPDATE/SHARE, ROW EXCLUSIVE on the target of INSERT, UPDATE, DELETE and MERGE.
 */
function queryLocks(root: unknown, e: Effects): void {
  const ctes = new Set<string>()
  walk(root, (type, f) => {
    if (type === 'CommonTableExpr' && typeof f.ctename === 'string') ctes.add(f.ctename)
    return undefined
  })
  walk(root, (type, f) => {
    switch (type) {
      case 'RangeVar': {
        const name = rangeVarName(f)
        if (!(f.schemaname === undefined && ctes.has(name))) e.take(name, 'AccessShareLock')
        return undefined
      }
      case 'IntoClause':
      case 'LockingClause':
        return false
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt':
        e.take(relationOf(f.relation), 'RowExclusiveLock')
        return undefined
      case 'SelectStmt':
        lockingClauseLocks(f, e, ctes)
        return undefined
      default:
        return undefined
    }
  })
}

/** FOR UPDATE / FOR SHARE: ROW SHARE on the relations it names, or on every relation of the FROM list. */
function lockingClauseLocks(select: Fields, e: Effects, ctes: ReadonlySet<string>): void {
  const clauses = list(select.lockingClause)
  if (clauses.length === 0) return
  const from: Array<{ name: string; alias: string }> = []
  walk(select.fromClause, (type, f) => {
    if (type === 'SelectStmt') return false
    if (type === 'RangeVar') {
      const name = rangeVarName(f)
      if (f.schemaname === undefined && ctes.has(name)) return undefined
      const alias = (f.alias as { aliasname?: string } | undefined)?.aliasname ?? String(f.relname ?? '')
      from.push({ name, alias })
    }
    return undefined
  })
  for (const clause of clauses) {
    const c = unwrap(clause)?.[1]
    const named = list(c?.lockedRels).map((r) => String(unwrap(r)?.[1].relname ?? ''))
    for (const rel of from) {
      if (named.length === 0 || named.includes(rel.alias)) e.take(rel.name, 'RowShareLock')
    }
  }
}

/** Reloptions whose change needs ACCESS EXCLUSIVE (reloptions.c); every other one takes SHARE UPDATE EXCLUSIVE. */
const EXCLUSIVE_RELOPTIONS = new Set([
  'user_catalog_table',
  'fastupdate',
  'security_barrier',
  'security_invoker',
  'check_option',
  'buffering',
])

/** ALTER TABLE actions below ACCESS EXCLUSIVE (AlterTableGetLockLevel). */
const CMD_LOCKS: Record<string, LockMode> = {
  AT_SetStatistics: 'ShareUpdateExclusiveLock',
  AT_ClusterOn: 'ShareUpdateExclusiveLock',
  AT_DropCluster: 'ShareUpdateExclusiveLock',
  AT_SetOptions: 'ShareUpdateExclusiveLock',
  AT_ResetOptions: 'ShareUpdateExclusiveLock',
  AT_ValidateConstraint: 'ShareUpdateExclusiveLock',
  AT_AttachPartition: 'ShareUpdateExclusiveLock',
  AT_DetachPartitionFinalize: 'ShareUpdateExclusiveLock',
  AT_EnableTrig: 'ShareRowExclusiveLock',
  AT_EnableAlwaysTrig: 'ShareRowExclusiveLock',
  AT_EnableReplicaTrig: 'ShareRowExclusiveLock',
  AT_EnableTrigAll: 'ShareRowExclusiveLock',
  AT_EnableTrigUser: 'ShareRowExclusiveLock',
  AT_DisableTrig: 'ShareRowExclusiveLock',
  AT_DisableTrigAll: 'ShareRowExclusiveLock',
  AT_DisableTrigUser: 'ShareRowExclusiveLock',
}

/** Actions that rewrite the table (and its indexes). */
const REWRITING_CMDS = new Set([
  'AT_SetLogged',
  'AT_SetUnLogged',
  'AT_SetTableSpace',
  'AT_SetAccessMethod',
  'AT_SetExpression',
])

/** The lock one ALTER TABLE action takes on the altered relation. */
export function alterTableCmdLock(cmd: Fields): LockMode {
  const subtype = String(cmd.subtype)
  if (subtype === 'AT_SetRelOptions' || subtype === 'AT_ResetRelOptions') {
    const items = list(unwrap(cmd.def)?.[1].items ?? cmd.def)
    const exclusive = items.some((o) => EXCLUSIVE_RELOPTIONS.has(String(unwrap(o)?.[1].defname ?? '')))
    return exclusive ? 'AccessExclusiveLock' : 'ShareUpdateExclusiveLock'
  }
  if (subtype === 'AT_AddConstraint') {
    const con = unwrap(cmd.def)
    return con?.[0] === 'Constraint' && con[1].contype === 'CONSTR_FOREIGN'
      ? 'ShareRowExclusiveLock'
      : 'AccessExclusiveLock'
  }
  if (subtype === 'AT_DetachPartition') {
    return unwrap(cmd.def)?.[1].concurrent === true ? 'ShareUpdateExclusiveLock' : 'AccessExclusiveLock'
  }
  return CMD_LOCKS[subtype] ?? 'AccessExclusiveLock'
}

/** True when a constraint of an ALTER TABLE action is checked against every existing row. */
function constraintScans(con: Fields): boolean {
  switch (con.contype) {
    case 'CONSTR_CHECK':
    case 'CONSTR_FOREIGN':
      return con.skip_validation !== true
    case 'CONSTR_PRIMARY':
    case 'CONSTR_UNIQUE':
      return con.indexname === undefined
    case 'CONSTR_EXCLUSION':
    case 'CONSTR_NOTNULL':
      return true
    default:
      return false
  }
}

/**
 * True when ADD COLUMN reads every row: a CHECK is checked, a UNIQUE or PRIMARY KEY index is built,
 * NOT NULL without a default is verified (and fails on a table with rows). A foreign key or NOT NULL
 * on a column whose values are all NULL or one constant default is not checked row by row.
 */
function addColumnScans(def: Fields): boolean {
  const constraints = columnConstraints(def)
  const defaulted = constraints.some((c) => c.contype === 'CONSTR_DEFAULT' && !isNull(c.raw_expr))
  return constraints.some((c) => {
    if (c.contype === 'CONSTR_NOTNULL') return !defaulted
    if (c.contype === 'CONSTR_FOREIGN') return defaulted && c.skip_validation !== true
    return constraintScans(c)
  })
}

function isNull(expr: unknown): boolean {
  const w = unwrap(expr)
  return w?.[0] === 'A_Const' && w[1].isnull === true
}

function foreignKeyLocks(con: Fields, e: Effects, self: string): void {
  if (con.contype !== 'CONSTR_FOREIGN') return
  const target = rangeVarName(con.pktable)
  if (target !== self) e.take(target, 'ShareRowExclusiveLock')
}

function alterTableLocks(s: Fields, e: Effects, pgVersion: number): void {
  const table = rangeVarName(s.relation)
  if (s.objtype === 'OBJECT_TYPE') return
  for (const c of list(s.cmds)) {
    const w = unwrap(c)
    if (w?.[0] !== 'AlterTableCmd') continue
    const cmd = w[1]
    const subtype = String(cmd.subtype)
    e.take(table, alterTableCmdLock(cmd))
    const def = unwrap(cmd.def)
    if (REWRITING_CMDS.has(subtype)) e.rewrite = true
    switch (subtype) {
      case 'AT_AddColumn':
      case 'AT_AddColumnToView': {
        if (def?.[0] !== 'ColumnDef') break
        if (addColumnRewrite(def[1], pgVersion) !== undefined) e.rewrite = true
        if (addColumnScans(def[1])) e.scan = true
        for (const con of columnConstraints(def[1])) foreignKeyLocks(con, e, table)
        break
      }
      case 'AT_AlterColumnType':
        if (def?.[0] === 'ColumnDef' && typeChangeRewrites(def[1])) e.rewrite = true
        break
      case 'AT_AddConstraint':
        if (def?.[0] !== 'Constraint') break
        foreignKeyLocks(def[1], e, table)
        if (constraintScans(def[1])) e.scan = true
        break
      case 'AT_SetNotNull':
      case 'AT_ValidateConstraint':
        e.scan = true
        break
      case 'AT_AttachPartition':
        if (s.objtype !== 'OBJECT_INDEX') {
          e.take(relationOf(def?.[1].name), 'AccessExclusiveLock')
          e.scan = true
        }
        break
      case 'AT_DetachPartition':
        // CONCURRENTLY too: its second transaction adds the partition's bound as a CHECK constraint on
        // the detached table, under ACCESS EXCLUSIVE (briefly; the parent stays SHARE UPDATE EXCLUSIVE).
        e.take(relationOf(def?.[1].name), 'AccessExclusiveLock')
        break
      case 'AT_AddInherit':
        e.take(relationOf(cmd.def), 'ShareUpdateExclusiveLock')
        break
      default:
        break
    }
  }
}

/** Relation object types: dropping, renaming or moving one locks it ACCESS EXCLUSIVE. */
const RELATION_OBJECTS = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_SEQUENCE',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_INDEX',
])

/** Objects that belong to a table: `DROP TRIGGER t ON users` locks users. */
const TABLE_OBJECTS = new Set(['OBJECT_TRIGGER', 'OBJECT_RULE', 'OBJECT_POLICY'])

function dropLocks(s: Fields, e: Effects): void {
  const type = String(s.removeType)
  const cascade = s.behavior === 'DROP_CASCADE'
  for (const o of list(s.objects)) {
    const items = list(unwrap(o)?.[1].items)
    if (RELATION_OBJECTS.has(type)) {
      const mode = type === 'OBJECT_INDEX' && s.concurrent === true ? 'ShareUpdateExclusiveLock' : 'AccessExclusiveLock'
      e.take(nameOf(items), mode)
    } else if (TABLE_OBJECTS.has(type)) {
      e.take(nameOf(items.slice(0, -1)), 'AccessExclusiveLock')
    } else if (type === 'OBJECT_STATISTIC_EXT') {
      e.unnamed('ShareUpdateExclusiveLock')
    }
  }
  // CASCADE may drop tables, columns, triggers and policies that depend on the object.
  if (cascade) e.unnamed('AccessExclusiveLock')
}

function renameLocks(s: Fields, e: Effects): void {
  const type = String(s.renameType)
  const relation = rangeVarName(s.relation)
  if (type === 'OBJECT_INDEX') e.take(relation, 'ShareUpdateExclusiveLock')
  else if (RELATION_OBJECTS.has(type)) e.take(relation, 'AccessExclusiveLock')
  else if (['OBJECT_COLUMN', 'OBJECT_TABCONSTRAINT', 'OBJECT_TRIGGER', 'OBJECT_POLICY', 'OBJECT_RULE'].includes(type)) {
    if (s.relationType !== 'OBJECT_TYPE') e.take(relation, 'AccessExclusiveLock')
  }
}

/** COMMENT ON / SECURITY LABEL ON a relation or one of its columns or constraints. */
function commentLocks(s: Fields, e: Effects): void {
  const type = String(s.objtype)
  const w = unwrap(s.object)
  const items = w?.[0] === 'List' ? list(w[1].items) : []
  if (RELATION_OBJECTS.has(type)) e.take(nameOf(items), 'ShareUpdateExclusiveLock')
  else if (type === 'OBJECT_COLUMN' || type === 'OBJECT_TABCONSTRAINT' || TABLE_OBJECTS.has(type)) {
    e.take(nameOf(items.slice(0, -1)), type === 'OBJECT_COLUMN' ? 'ShareUpdateExclusiveLock' : 'AccessShareLock')
  }
}

function createLocks(s: Fields, e: Effects): void {
  const self = rangeVarName(s.relation)
  const parentMode: LockMode = s.partbound !== undefined ? 'AccessExclusiveLock' : 'ShareUpdateExclusiveLock'
  for (const parent of list(s.inhRelations)) e.take(relationOf(parent), parentMode)
  for (const element of list(s.tableElts)) {
    const w = unwrap(element)
    if (w?.[0] === 'ColumnDef') for (const con of columnConstraints(w[1])) foreignKeyLocks(con, e, self)
    else if (w?.[0] === 'Constraint') foreignKeyLocks(w[1], e, self)
    else if (w?.[0] === 'TableLikeClause') e.take(relationOf(w[1].relation), 'AccessShareLock')
  }
}

function optionNamed(options: unknown, name: string): boolean {
  return list(options).some((o) => unwrap(o)?.[1].defname === name)
}

function forEachRelation(rels: unknown, visit: (name: string) => void): void {
  for (const r of list(rels)) {
    const w = unwrap(r)
    if (w?.[0] === 'VacuumRelation') visit(relationOf(w[1].relation))
    else if (w?.[0] === 'RangeVar') visit(rangeVarName(w[1]))
  }
}

/** Statement kinds that can lock an existing relation (the others never do). */
export const LOCKING_KINDS: ReadonlySet<string> = new Set([
  'SelectStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'ExplainStmt',
  'PrepareStmt',
  'DeclareCursorStmt',
  'CopyStmt',
  'CreateTableAsStmt',
  'ViewStmt',
  'CreateStmt',
  'CreateForeignTableStmt',
  'IndexStmt',
  'DropStmt',
  'TruncateStmt',
  'AlterTableStmt',
  'AlterTableMoveAllStmt',
  'RenameStmt',
  'AlterObjectSchemaStmt',
  'CreateTrigStmt',
  'RuleStmt',
  'CreatePolicyStmt',
  'AlterPolicyStmt',
  'CommentStmt',
  'SecLabelStmt',
  'LockStmt',
  'VacuumStmt',
  'ClusterStmt',
  'ReindexStmt',
  'RefreshMatViewStmt',
  'CreateStatsStmt',
  'AlterSeqStmt',
  'AlterDomainStmt',
  'CreatePublicationStmt',
  'AlterPublicationStmt',
  'DropOwnedStmt',
  'ReassignOwnedStmt',
  'CreateSchemaStmt',
])

function collect(kind: string, s: Fields, e: Effects, pgVersion: number): void {
  switch (kind) {
    case 'SelectStmt':
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt':
      queryLocks({ [kind]: s }, e)
      return
    case 'ExplainStmt':
    case 'PrepareStmt':
    case 'DeclareCursorStmt':
      queryLocks(s.query, e)
      return
    case 'CopyStmt':
      if (s.relation !== undefined)
        e.take(rangeVarName(s.relation), s.is_from === true ? 'RowExclusiveLock' : 'AccessShareLock')
      if (s.query !== undefined) queryLocks(s.query, e)
      return
    case 'CreateTableAsStmt':
      queryLocks(s.query, e)
      return
    case 'ViewStmt':
      queryLocks(s.query, e)
      if (s.replace === true) e.take(rangeVarName(s.view), 'AccessExclusiveLock')
      return
    case 'CreateStmt':
      createLocks(s, e)
      return
    case 'CreateForeignTableStmt':
      createLocks((s.base as Fields | undefined) ?? {}, e)
      return
    case 'IndexStmt':
      e.take(rangeVarName(s.relation), s.concurrent === true ? 'ShareUpdateExclusiveLock' : 'ShareLock')
      e.scan = true
      return
    case 'DropStmt':
      dropLocks(s, e)
      return
    case 'TruncateStmt':
      forEachRelation(s.relations, (name) => e.take(name, 'AccessExclusiveLock'))
      if (s.behavior === 'DROP_CASCADE') e.unnamed('AccessExclusiveLock')
      return
    case 'AlterTableStmt':
      alterTableLocks(s, e, pgVersion)
      return
    case 'AlterTableMoveAllStmt':
      e.unnamed('AccessExclusiveLock')
      e.rewrite = true
      return
    case 'RenameStmt':
      renameLocks(s, e)
      return
    case 'AlterObjectSchemaStmt':
      if (RELATION_OBJECTS.has(String(s.objectType))) e.take(rangeVarName(s.relation), 'AccessExclusiveLock')
      return
    case 'CreateTrigStmt':
      e.take(rangeVarName(s.relation), 'ShareRowExclusiveLock')
      return
    case 'RuleStmt':
      e.take(rangeVarName(s.relation), 'AccessExclusiveLock')
      return
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
      e.take(rangeVarName(s.table), 'AccessExclusiveLock')
      return
    case 'CommentStmt':
    case 'SecLabelStmt':
      commentLocks(s, e)
      return
    case 'LockStmt': {
      const mode = LOCK_NUMBERS[Number(s.mode ?? 8)] ?? 'AccessExclusiveLock'
      forEachRelation(s.relations, (name) => e.take(name, mode))
      return
    }
    case 'VacuumStmt': {
      const full = s.is_vacuumcmd === true && optionNamed(s.options, 'full')
      const mode: LockMode = full ? 'AccessExclusiveLock' : 'ShareUpdateExclusiveLock'
      if (list(s.rels).length === 0) e.unnamed(mode)
      forEachRelation(s.rels, (name) => e.take(name, mode))
      if (full) e.rewrite = true
      else if (s.is_vacuumcmd === true) e.scan = true
      return
    }
    case 'ClusterStmt':
      if (s.relation === undefined) e.unnamed('AccessExclusiveLock')
      else e.take(rangeVarName(s.relation), 'AccessExclusiveLock')
      e.rewrite = true
      return
    case 'ReindexStmt': {
      const mode: LockMode = optionNamed(s.params, 'concurrently') ? 'ShareUpdateExclusiveLock' : 'AccessExclusiveLock'
      if (s.relation === undefined) e.unnamed(mode)
      else e.take(rangeVarName(s.relation), mode)
      e.rewrite = true
      return
    }
    case 'RefreshMatViewStmt':
      if (s.concurrent === true) {
        e.take(rangeVarName(s.relation), 'ExclusiveLock')
        e.scan = true
      } else {
        e.take(rangeVarName(s.relation), 'AccessExclusiveLock')
        e.rewrite = true
      }
      return
    case 'CreateStatsStmt':
      forEachRelation(s.relations, (name) => e.take(name, 'ShareUpdateExclusiveLock'))
      return
    case 'AlterSeqStmt':
      e.take(rangeVarName(s.sequence), 'ShareRowExclusiveLock')
      return
    case 'AlterDomainStmt':
      // Adding or validating a constraint, or SET NOT NULL, checks every column of the domain.
      if (
        s.subtype === 'N' ||
        s.subtype === 'V' ||
        (s.subtype === 'C' && unwrap(s.def)?.[1].skip_validation !== true)
      ) {
        e.unnamed('ShareLock')
        e.scan = true
      }
      return
    case 'CreatePublicationStmt':
    case 'AlterPublicationStmt':
      for (const o of list(s.pubobjects)) {
        const table = (unwrap(o)?.[1].pubtable as Fields | undefined)?.relation
        if (table !== undefined) e.take(rangeVarName(table), 'ShareUpdateExclusiveLock')
      }
      return
    case 'DropOwnedStmt':
    case 'ReassignOwnedStmt':
      e.unnamed('AccessExclusiveLock')
      return
    case 'CreateSchemaStmt':
      for (const element of list(s.schemaElts)) {
        const w = unwrap(element)
        if (w !== undefined) collect(w[0], w[1], e, pgVersion)
      }
      return
    default:
      return
  }
}

/**
 * The locks, rewrite and scan of one statement. Pure; never throws on a tree it does not expect
 * (unknown shapes take no lock).
 *
 * @example
 * statementLocks('IndexStmt', { relation: { relname: 'users' } }, 14)
 * // { lock: 'ShareLock', relations: [{ relation: 'users', mode: 'ShareLock' }], rewrite: false, scan: true }
 */
export function statementLocks(kind: string, fields: Fields, pgVersion: number): StatementLocks {
  // The engine and two hazard rules ask for the same statement's locks: compute them once.
  const cached = memo.get(fields)
  if (cached !== undefined && cached.kind === kind && cached.pgVersion === pgVersion) return cached.locks
  const e = new Effects()
  if (LOCKING_KINDS.has(kind)) collect(kind, fields, e, pgVersion)
  const locks = e.result()
  memo.set(fields, { kind, pgVersion, locks })
  return locks
}

/** Locks by statement node (the parse tree's own object): dropped with the tree. */
const memo = new WeakMap<Fields, { kind: string; pgVersion: number; locks: StatementLocks }>()

/** `schema.name` of a statement's relation names, compared without a leading `public.`. */
export function relationKey(name: string): string {
  return name.startsWith('public.') ? name.slice('public.'.length) : name
}
