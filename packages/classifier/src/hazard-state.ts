/**
 * What the hazard rules need to know about the statements before the current one in a script: the
 * relations it created, whether a `lock_timeout` is set, the open transaction, the ACCESS EXCLUSIVE
 * locks already taken, constraints added NOT VALID. The engine records each top-level statement after
 * its rules ran, so a rule always sees the script up to, not including, its own statement.
 */
import { blocksWrites, relationKey, type StatementLocks } from './locks.js'
import { transactionFacts } from './transaction.js'
import { type Fields, rangeVarName, unwrap } from './walk.js'

export interface HazardState {
  /** Relations created earlier in the script (keys from {@link relationKey}): empty, so cheap to lock. */
  readonly created: Set<string>
  /** A non-zero `lock_timeout` is set for what follows. */
  lockTimeout: boolean
  /** The `lock_timeout` was set with SET LOCAL, so it ends with the transaction. */
  lockTimeoutLocal: boolean
  /** An explicit transaction is open (BEGIN without COMMIT or ROLLBACK yet). */
  inTransaction: boolean
  /** Statements since the script began or its last COMMIT/ROLLBACK, other than SET, RESET, SHOW and transaction control. */
  statements: number
  /** The first statement that cannot run in a transaction block (its opening words), and statements since it. */
  nonTransactional: { readonly text: string; after: number } | undefined
  /** A statement already took a write-blocking lock on an existing relation with no `lock_timeout` set. */
  unguardedStrongLock: boolean
  /** Statements of the current transaction that took ACCESS EXCLUSIVE, by relation key. */
  readonly accessExclusive: Map<string, number>
  /** `table.constraint` keys of constraints added NOT VALID in the current transaction. */
  readonly notValid: Set<string>
  /** CHECK (column IS NOT NULL) constraints added NOT VALID: `table.constraint` -> column. */
  readonly notNullChecks: Map<string, string>
  /** `table.column` keys that have a validated CHECK (column IS NOT NULL). */
  readonly notNullProven: Set<string>
}

/** A fresh state for a new script. */
export function newHazardState(): HazardState {
  return {
    created: new Set(),
    lockTimeout: false,
    lockTimeoutLocal: false,
    inTransaction: false,
    statements: 0,
    nonTransactional: undefined,
    unguardedStrongLock: false,
    accessExclusive: new Map(),
    notValid: new Set(),
    notNullChecks: new Map(),
    notNullProven: new Set(),
  }
}

/** True when the relation was created earlier in this script. */
export function createdInScript(state: HazardState, relation: string): boolean {
  return state.created.has(relationKey(relation))
}

/** Statement kinds that change no data and take no relation lock: they do not count as "other statements". */
const SETTINGS = new Set(['VariableSetStmt', 'VariableShowStmt', 'TransactionStmt'])

/** The column of `CHECK (column IS NOT NULL)`, or undefined. */
export function notNullCheckColumn(con: Fields): string | undefined {
  if (con.contype !== 'CONSTR_CHECK') return undefined
  const test = unwrap(con.raw_expr)
  if (test?.[0] !== 'NullTest' || test[1].nulltesttype !== 'IS_NOT_NULL') return undefined
  const ref = unwrap(test[1].arg)
  if (ref?.[0] !== 'ColumnRef') return undefined
  const fields = Array.isArray(ref[1].fields) ? ref[1].fields : []
  const last = unwrap(fields.at(-1))
  return last?.[0] === 'String' ? String(last[1].sval) : undefined
}

/**
 * COMMIT or ROLLBACK: locks and NOT VALID constraints of the transaction are gone, and a script that
 * ends its own transactions is not run inside one wrapper, so earlier statements stop counting.
 */
function endTransaction(state: HazardState): void {
  state.inTransaction = false
  state.statements = 0
  state.accessExclusive.clear()
  state.notValid.clear()
  if (state.lockTimeoutLocal) {
    state.lockTimeout = false
    state.lockTimeoutLocal = false
  }
}

function recordSetting(state: HazardState, s: Fields): void {
  const name = String(s.name ?? '').toLowerCase()
  if (s.kind === 'VAR_RESET_ALL') {
    state.lockTimeout = false
    return
  }
  if (name !== 'lock_timeout') return
  const arg = unwrap(Array.isArray(s.args) ? s.args[0] : undefined)
  const value = arg?.[0] === 'A_Const' ? arg[1] : undefined
  const ival = (value?.ival as { ival?: number } | undefined)?.ival
  const sval = (value?.sval as { sval?: string } | undefined)?.sval
  const zero =
    ival === 0 || (value?.ival !== undefined && ival === undefined) || /^\s*0+\s*(ms|s|min|h|d)?\s*$/i.test(sval ?? 'x')
  state.lockTimeout = s.kind === 'VAR_SET_VALUE' && value !== undefined && !zero
  state.lockTimeoutLocal = state.lockTimeout && s.is_local === true
}

function recordAlterTable(state: HazardState, s: Fields): void {
  const table = relationKey(rangeVarName(s.relation))
  for (const c of Array.isArray(s.cmds) ? s.cmds : []) {
    const cmd = unwrap(c)
    if (cmd?.[0] !== 'AlterTableCmd') continue
    const def = unwrap(cmd[1].def)
    if (cmd[1].subtype === 'AT_AddConstraint' && def?.[0] === 'Constraint') {
      const con = def[1]
      const name = typeof con.conname === 'string' ? `${table}.${con.conname}` : undefined
      const column = notNullCheckColumn(con)
      if (con.skip_validation === true) {
        if (name !== undefined) state.notValid.add(name)
        if (name !== undefined && column !== undefined) state.notNullChecks.set(name, column)
      } else if (column !== undefined) {
        state.notNullProven.add(`${table}.${column}`)
      }
    } else if (cmd[1].subtype === 'AT_ValidateConstraint' && typeof cmd[1].name === 'string') {
      const column = state.notNullChecks.get(`${table}.${cmd[1].name}`)
      if (column !== undefined) state.notNullProven.add(`${table}.${column}`)
    }
  }
}

function createdName(kind: string, s: Fields): string | undefined {
  switch (kind) {
    case 'CreateStmt':
      return rangeVarName(s.relation)
    case 'CreateForeignTableStmt':
      return rangeVarName((s.base as Fields | undefined)?.relation)
    case 'CreateTableAsStmt':
      return rangeVarName((s.into as Fields | undefined)?.rel)
    case 'SelectStmt':
      return s.intoClause === undefined ? undefined : rangeVarName((s.intoClause as Fields).rel)
    case 'ViewStmt':
      return s.replace === true ? undefined : rangeVarName(s.view)
    case 'CreateSeqStmt':
      return rangeVarName(s.sequence)
    case 'IndexStmt':
      return typeof s.idxname === 'string' ? s.idxname : undefined
    default:
      return undefined
  }
}

/** Records one top-level statement of the script, after its rules ran. */
export function recordStatement(
  state: HazardState,
  kind: string,
  s: Fields,
  text: string,
  locks: StatementLocks,
): void {
  if (kind === 'TransactionStmt') {
    const verb = transactionFacts(kind, s).transactionControl
    if (verb === 'BEGIN' || verb === 'START TRANSACTION') state.inTransaction = true
    else if (verb === 'COMMIT' || verb === 'ROLLBACK' || verb === 'PREPARE TRANSACTION') endTransaction(state)
    return
  }
  if (kind === 'VariableSetStmt') {
    recordSetting(state, s)
    return
  }
  if (SETTINGS.has(kind)) return

  for (const { relation, mode } of locks.relations) {
    const key = relationKey(relation)
    if (state.created.has(key)) continue
    if (mode === 'AccessExclusiveLock') state.accessExclusive.set(key, (state.accessExclusive.get(key) ?? 0) + 1)
  }
  if (!state.lockTimeout && takesStrongLock(state, locks)) state.unguardedStrongLock = true
  if (kind === 'AlterTableStmt') recordAlterTable(state, s)
  if (kind === 'RenameStmt' && s.renameType === 'OBJECT_TABLE' && typeof s.newname === 'string') {
    if (state.created.has(relationKey(rangeVarName(s.relation)))) state.created.add(relationKey(s.newname))
  }
  const created = createdName(kind, s)
  if (created !== undefined && created !== '') state.created.add(relationKey(created))

  if (state.nonTransactional !== undefined) state.nonTransactional.after++
  if (!transactionFacts(kind, s).transactional && state.nonTransactional === undefined) {
    state.nonTransactional = { text: openingWords(text), after: 0 }
  }
  state.statements++
}

/** True when the statement takes a write-blocking lock on a relation not created in this script. */
export function takesStrongLock(state: HazardState, locks: StatementLocks): boolean {
  if (locks.relations.length === 0) return blocksWrites(locks.lock)
  return locks.relations.some(({ relation, mode }) => blocksWrites(mode) && !state.created.has(relationKey(relation)))
}

/** The first words of a statement, for messages about it (`CREATE INDEX CONCURRENTLY users_email_idx`). */
export function openingWords(text: string): string {
  const words = text
    .replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ' ')
    .trim()
    .split(/\s+/)
  const head = words.slice(0, 5).join(' ')
  return words.length > 5 ? `${head} ...` : head
}

/** True when an ALTER TABLE action's table existed before this script (it may hold rows). */
export function existingRelation(ctx: {
  readonly relation: string
  readonly script: { readonly hazards: HazardState }
}): boolean {
  return ctx.relation !== '' && !createdInScript(ctx.script.hazards, ctx.relation)
}
