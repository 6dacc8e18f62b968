/**
 * What earlier statements and earlier migrations defined, carried from file to file when `ddl check`
 * reads a migrations directory in order: tables with their column types and row level security,
 * functions, enums. Rules read it to know an old column type (`varchar(100)` to `varchar(10)` is a
 * rewrite) and the Supabase lints read it to decide at the end of a run which tables never got RLS.
 *
 * It holds names, types and definitions only, never data. It lowers a tier only where it proves that
 * nothing is lost: a type change every old value survives, a constraint or index dropped and made
 * again the same, a function whose body it classified. A script checked without it is judged as
 * before (fail closed), and the executor's gate never uses one.
 */

import { type ColumnType, columnType } from './column-types.js'
import { newFreshObjects } from './fresh-objects.js'
import { type FunctionReference, forgetFunction, moveFunction } from './function-refs.js'
import { newHazardState } from './hazard-state.js'
import { type KnownDefinitions, learnDefinitions, newKnownDefinitions } from './known-definitions.js'
import { relationKey } from './locks.js'
import type { ClassifyOptions } from './policy.js'
import { type Profile, SUPABASE_EXPOSED_SCHEMAS, schemaOf } from './profile.js'
import type { AnyRule, ScriptState } from './rule.js'
import { supabaseAnonSecurityDefiner } from './rules/supabase-anon-security-definer.js'
import { supabaseRlsDisabledInPublic } from './rules/supabase-rls-disabled-in-public.js'
import { maxTier, type Tier } from './tier.js'
import type { ClassifiedStatement, Finding } from './types.js'
import { type Fields, lastName, nameOf, rangeVarName, unwrap, walk } from './walk.js'

/** Where a definition was made: the n-th script of the run (0-based) and its n-th statement. */
export interface Origin {
  readonly script: number
  readonly statement: number
}

/** A table as the migrations so far left it. */
export interface LearnedTable {
  /** The name as written (`public.profiles` or `profiles`). */
  name: string
  /** Column name (lower case) to its declared type. */
  readonly columns: Map<string, ColumnType>
  /** ENABLE ROW LEVEL SECURITY ran on it (and no DISABLE after). */
  rls: boolean
  /** Policies created on it, by name. */
  readonly policies: Set<string>
  readonly origin: Origin
}

/** A function as the migrations so far left it. */
export interface LearnedFunction {
  readonly name: string
  readonly securityDefiner: boolean
  /** Returns `trigger` or `event_trigger`: not callable through an API. */
  readonly triggerFunction: boolean
  /** Roles EXECUTE was revoked from (`anon`, `public`, ...), lower case. */
  readonly revokedFrom: Set<string>
  readonly origin: Origin
}

/** The schema learned from a run of scripts; create with {@link newMigrationHistory}. */
export interface MigrationHistory {
  /** Scripts classified with this history so far. */
  scripts: number
  /** Tables by relation key (`public.` dropped, names as the parser folds them). */
  readonly tables: Map<string, LearnedTable>
  /** Functions by lower-case name as written (`public.` dropped). */
  readonly functions: Map<string, LearnedFunction>
  /** Enum types by name, with their labels. */
  readonly enums: Map<string, string[]>
  /**
   * The run reads a migration history from its first migration (`ddl check` on a migrations
   * directory): an unqualified or `public` table or function that no earlier migration created does
   * not exist yet, so `CREATE TABLE IF NOT EXISTS` creates it and `CREATE OR REPLACE FUNCTION`
   * replaces nothing. False for a loose file or a script of unknown history: then either may find
   * an object already there.
   */
  readonly fromStart: boolean
  /** What a call of each function defined so far would get: its body's tier, by signature (`signatureOf` in function-refs.ts). */
  readonly functionTiers: Map<string, Tier>
  /** Functions whose body was `cautious` only for calling functions not defined yet: what they call. */
  readonly pendingCalls: Map<string, FunctionReference[]>
  /** Constraints, indexes and triggers defined so far, comparable (see known-definitions.ts). */
  readonly definitions: KnownDefinitions
  /**
   * A script of the run set `search_path` (SET, RESET, `set_config`): an unqualified table name may
   * now mean a table of another schema, so what the history holds under it is not used for it.
   */
  searchPathMoved: boolean
  /** Tables a script of the run made an inheritance parent (`INHERITS (p)`, `INHERIT p`), as relation keys. */
  readonly parents: Set<string>
}

/**
 * A fresh history: pass the same object as {@link ClassifyOptions.history} to each `classify` of a
 * migrations directory, in migration order, then call {@link historyFindings} once at the end.
 *
 * @example
 * const history = newMigrationHistory()
 * for (const file of files) {
 *   const plan = classify(read(file), { history })
 *   if (plan.isErr()) throw plan.error
 * }
 * const late = historyFindings(history, { profile: 'supabase' })
 */
export function newMigrationHistory(options: { readonly fromStart?: boolean } = {}): MigrationHistory {
  return {
    scripts: 0,
    tables: new Map(),
    functions: new Map(),
    enums: new Map(),
    fromStart: options.fromStart === true,
    functionTiers: new Map(),
    pendingCalls: new Map(),
    definitions: newKnownDefinitions(),
    searchPathMoved: false,
    parents: new Set(),
  }
}

/**
 * True when a run that reads the migration history from its first migration has seen no earlier
 * migration create this unqualified or `public` table or function: it does not exist yet. Always
 * false outside such a run, and for other schemas (platforms create their own objects there:
 * `auth.users`, `storage.objects`).
 */
export function absentFromHistory(
  history: MigrationHistory,
  kind: 'table' | 'function' | 'parent',
  name: string,
): boolean {
  if (!history.fromStart || name === '') return false
  const lower = name.toLowerCase()
  if (lower.includes('.') && !lower.startsWith('public.')) return false
  if (kind === 'parent') return !history.parents.has(relationKey(name))
  return kind === 'table' ? !history.tables.has(relationKey(name)) : !history.functions.has(functionKey(name))
}

/** The state one `classify` call starts from: fresh per script, except the carried history. */
export function newScriptState(options: ClassifyOptions): ScriptState {
  const history = options.history ?? newMigrationHistory()
  const script = history.scripts++
  return {
    functions: history.functionTiers,
    prepared: new Map(),
    hazards: newHazardState(),
    history,
    script,
    ...(options.profile === undefined ? {} : { profile: options.profile }),
    knownFunctions: options.knownFunctions ?? new Set(),
    identifiers: new Map(),
    operators: new Map(),
    reads: new Map(),
    writes: new Map(),
    types: new Map(),
    eventTrigger: undefined,
    fresh: newFreshObjects(),
    bodyCalls: undefined,
    droppedDefinitions: new Map(),
    createdNew: new Set(),
    utc: false,
  }
}

function functionKey(name: string): string {
  const lower = name.toLowerCase()
  return lower.startsWith('public.') ? lower.slice('public.'.length) : lower
}

function columnName(def: Fields): string | undefined {
  return typeof def.colname === 'string' ? def.colname : undefined
}

function learnCreateTable(history: MigrationHistory, s: Fields, origin: Origin): void {
  const name = rangeVarName(s.relation)
  if (name === '') return
  const key = relationKey(name)
  if (s.if_not_exists === true && history.tables.has(key)) return
  const table: LearnedTable = { name, columns: new Map(), rls: false, policies: new Set(), origin }
  for (const e of Array.isArray(s.tableElts) ? s.tableElts : []) {
    const w = unwrap(e)
    if (w?.[0] !== 'ColumnDef') continue
    const col = columnName(w[1])
    const type = columnType(w[1].typeName)
    if (col !== undefined && type !== undefined) table.columns.set(col, type)
  }
  history.tables.set(key, table)
}

function learnAlterTable(history: MigrationHistory, s: Fields): void {
  const table = history.tables.get(relationKey(rangeVarName(s.relation)))
  if (table === undefined) return
  for (const c of Array.isArray(s.cmds) ? s.cmds : []) {
    const cmd = unwrap(c)
    if (cmd?.[0] !== 'AlterTableCmd') continue
    const f = cmd[1]
    const def = unwrap(f.def)
    switch (f.subtype) {
      case 'AT_AddColumn': {
        const col = def?.[0] === 'ColumnDef' ? columnName(def[1]) : undefined
        const type = def?.[0] === 'ColumnDef' ? columnType(def[1].typeName) : undefined
        if (col !== undefined && type !== undefined) table.columns.set(col, type)
        break
      }
      case 'AT_AlterColumnType': {
        const type = def?.[0] === 'ColumnDef' ? columnType(def[1].typeName) : undefined
        if (typeof f.name === 'string' && type !== undefined) table.columns.set(f.name, type)
        break
      }
      case 'AT_DropColumn':
        if (typeof f.name === 'string') table.columns.delete(f.name)
        break
      case 'AT_EnableRowSecurity':
      case 'AT_ForceRowSecurity':
        table.rls = true
        break
      case 'AT_DisableRowSecurity':
        table.rls = false
        break
    }
  }
}

function learnRename(history: MigrationHistory, s: Fields, origin: Origin): void {
  const key = relationKey(rangeVarName(s.relation))
  const table = history.tables.get(key)
  if (typeof s.newname !== 'string') return
  if (s.renameType === 'OBJECT_TABLE') {
    const schema = typeof (s.relation as Fields).schemaname === 'string' ? `${(s.relation as Fields).schemaname}.` : ''
    // The rename succeeded, so whatever the history held under the new name is stale: the name is
    // now the renamed table's, whose columns are unknown when the history never saw it.
    moveTable(history, key, `${schema}${s.newname}`, origin)
    return
  }
  if (table === undefined) return
  if (s.renameType === 'OBJECT_COLUMN' && typeof s.subname === 'string') {
    const type = table.columns.get(s.subname)
    table.columns.delete(s.subname)
    if (type !== undefined) table.columns.set(s.newname, type)
  }
}

/**
 * A table now known under `to` (a rename, SET SCHEMA): its entry moves there, or, when the history
 * never saw it, an entry with no known columns takes the name (the table exists; its types are unknown).
 */
function moveTable(history: MigrationHistory, from: string, to: string, origin: Origin): void {
  const table = history.tables.get(from)
  if (table === undefined && !history.tables.has(relationKey(to))) return
  history.tables.delete(from)
  const moved: LearnedTable = table ?? { name: to, columns: new Map(), rls: false, policies: new Set(), origin }
  moved.name = to
  history.tables.set(relationKey(to), moved)
}

/** True when a statement sets `search_path`: SET / RESET search_path, RESET ALL, or `set_config('search_path', ...)`. */
function setsSearchPath(kind: string, s: Fields): boolean {
  if (kind === 'VariableSetStmt') {
    return s.kind === 'VAR_RESET_ALL' || String(s.name ?? '').toLowerCase() === 'search_path'
  }
  let found = false
  walk(s, (type, node) => {
    if (found || type !== 'FuncCall' || lastName(node.funcname).toLowerCase() !== 'set_config') return undefined
    const first = unwrap(Array.isArray(node.args) ? node.args[0] : undefined)
    const name = first?.[0] === 'A_Const' ? (first[1].sval as Fields | undefined)?.sval : undefined
    if (typeof name !== 'string' || name.toLowerCase() === 'search_path') found = true
    return undefined
  })
  return found
}

/** Records the tables a statement makes inheritance parents (not partitioned ones: a partition has no column of its own). */
function learnParents(history: MigrationHistory, kind: string, s: Fields): void {
  if (kind === 'CreateStmt' && s.partbound === undefined) {
    for (const p of Array.isArray(s.inhRelations) ? s.inhRelations : [])
      history.parents.add(relationKey(rangeVarName(unwrap(p)?.[1] ?? p)))
  }
  if (kind === 'AlterTableStmt') {
    for (const c of Array.isArray(s.cmds) ? s.cmds : []) {
      const cmd = unwrap(c)?.[1]
      if (cmd?.subtype === 'AT_AddInherit')
        history.parents.add(relationKey(rangeVarName(unwrap(cmd.def)?.[1] ?? cmd.def)))
    }
  }
}

/** The name list of an ObjectWithArgs (`ALTER FUNCTION x.f(int) ...`), as strings. */
function objectNames(object: unknown): string[] | undefined {
  const w = unwrap(object)
  const list = w?.[0] === 'ObjectWithArgs' ? w[1].objname : undefined
  return Array.isArray(list) ? list.map((n) => String(unwrap(n)?.[1].sval ?? '')) : undefined
}

/** Object types of ALTER ... SET SCHEMA that move a relation. */
const RELATIONS: ReadonlySet<string> = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_FOREIGN_TABLE',
  'OBJECT_SEQUENCE',
])

const FUNCTION_DROPS: ReadonlySet<string> = new Set([
  'OBJECT_FUNCTION',
  'OBJECT_PROCEDURE',
  'OBJECT_ROUTINE',
  'OBJECT_AGGREGATE',
])

function learnDrop(history: MigrationHistory, s: Fields): void {
  for (const o of Array.isArray(s.objects) ? s.objects : []) {
    const w = unwrap(o)
    if (s.removeType === 'OBJECT_TABLE' && w?.[0] === 'List') {
      history.tables.delete(relationKey(nameOf(w[1].items)))
    } else if (FUNCTION_DROPS.has(String(s.removeType)) && w?.[0] === 'ObjectWithArgs') {
      history.functions.delete(functionKey(nameOf(w[1].objname)))
      // A later call of that name reaches whatever else carries it (another schema, another
      // signature), not the body this run classified.
      forgetFunction({ functions: history.functionTiers, history }, lastName(w[1].objname))
    } else if (s.removeType === 'OBJECT_TYPE' && w?.[0] === 'TypeName') {
      history.enums.delete(nameOf(w[1].names))
    }
  }
}

function learnFunction(history: MigrationHistory, s: Fields, origin: Origin): void {
  const name = nameOf(s.funcname)
  if (name === '') return
  let securityDefiner = false
  for (const o of Array.isArray(s.options) ? s.options : []) {
    const w = unwrap(o)
    if (w?.[0] !== 'DefElem' || w[1].defname !== 'security') continue
    const arg = unwrap(w[1].arg)
    securityDefiner = arg?.[0] === 'Boolean' && arg[1].boolval === true
  }
  const returns = nameOf((s.returnType as Fields | undefined)?.names).toLowerCase()
  const triggerFunction = returns === 'trigger' || returns === 'event_trigger' || returns === 'pg_catalog.trigger'
  const key = functionKey(name)
  // CREATE OR REPLACE keeps the function's privileges: earlier REVOKEs still hold.
  const revokedFrom = s.replace === true ? (history.functions.get(key)?.revokedFrom ?? new Set()) : new Set<string>()
  history.functions.set(key, { name, securityDefiner, triggerFunction, revokedFrom, origin })
}

function roleNames(grantees: unknown): string[] {
  const out: string[] = []
  for (const g of Array.isArray(grantees) ? grantees : []) {
    const w = unwrap(g)
    if (w?.[0] !== 'RoleSpec') continue
    if (w[1].roletype === 'ROLESPEC_PUBLIC') out.push('public')
    else if (typeof w[1].rolename === 'string') out.push(w[1].rolename.toLowerCase())
  }
  return out
}

function grantsExecute(s: Fields): boolean {
  const privileges = Array.isArray(s.privileges) ? s.privileges : []
  if (privileges.length === 0) return true // ALL
  return privileges.some((p) => {
    const name = unwrap(p)?.[1].priv_name
    return name === 'execute' || name === 'all'
  })
}

function learnGrant(history: MigrationHistory, s: Fields): void {
  if (s.objtype !== 'OBJECT_FUNCTION' && s.objtype !== 'OBJECT_ROUTINE') return
  if (!grantsExecute(s)) return
  const roles = roleNames(s.grantees)
  const targets: LearnedFunction[] = []
  if (s.targtype === 'ACL_TARGET_ALL_IN_SCHEMA') {
    const schemas = new Set(
      (Array.isArray(s.objects) ? s.objects : []).map((o) => String(unwrap(o)?.[1].sval ?? '').toLowerCase()),
    )
    for (const f of history.functions.values()) if (schemas.has(schemaOf(f.name))) targets.push(f)
  } else if (s.targtype === 'ACL_TARGET_OBJECT') {
    for (const o of Array.isArray(s.objects) ? s.objects : []) {
      const w = unwrap(o)
      if (w?.[0] !== 'ObjectWithArgs') continue
      const f = history.functions.get(functionKey(nameOf(w[1].objname)))
      if (f !== undefined) targets.push(f)
    }
  }
  for (const f of targets) {
    for (const role of roles) {
      if (s.is_grant === true) f.revokedFrom.delete(role)
      else f.revokedFrom.add(role)
    }
  }
}

/**
 * Records one top-level statement of a script in the history, after its rules ran (so a rule sees
 * the schema as it was before its own statement). Never throws on a tree it does not know.
 */
export function learnStatement(state: ScriptState, kind: string, s: Fields, statement: number): void {
  try {
    learn(state, kind, s, statement)
  } catch {
    // A tree shape the history does not know is left out of it: the history only ever adds hazard
    // findings, so knowing less never lowers a tier, and classify() must not throw.
  }
}

function learn(state: ScriptState, kind: string, s: Fields, statement: number): void {
  const history = state.history
  const origin: Origin = { script: state.script, statement }
  if (
    (kind === 'CreateStmt' &&
      s.if_not_exists === true &&
      absentFromHistory(history, 'table', rangeVarName(s.relation))) ||
    (kind === 'CreateFunctionStmt' && s.replace === true && absentFromHistory(history, 'function', nameOf(s.funcname)))
  )
    state.createdNew.add(statement)
  learnDefinitions(state, kind, s, statement)
  state.utc = utcAfter(state.utc, kind, s)
  if (setsSearchPath(kind, s)) history.searchPathMoved = true
  learnParents(history, kind, s)
  switch (kind) {
    case 'CreateStmt':
      learnCreateTable(history, s, origin)
      break
    case 'AlterTableStmt':
      learnAlterTable(history, s)
      break
    case 'RenameStmt':
      learnRename(history, s, origin)
      if (FUNCTION_DROPS.has(String(s.renameType)) && typeof s.newname === 'string') {
        const names = objectNames(s.object)
        if (names !== undefined) moveFunction({ functions: history.functionTiers, history }, names, { own: s.newname })
      }
      break
    case 'AlterObjectSchemaStmt':
      if (FUNCTION_DROPS.has(String(s.objectType)) && typeof s.newschema === 'string') {
        const names = objectNames(s.object)
        if (names !== undefined)
          moveFunction({ functions: history.functionTiers, history }, names, { schema: s.newschema })
      }
      if (RELATIONS.has(String(s.objectType)) && typeof s.newschema === 'string') {
        const relation = s.relation as Fields | undefined
        const to =
          s.newschema === 'public'
            ? String(relation?.relname ?? '')
            : `${s.newschema}.${String(relation?.relname ?? '')}`
        moveTable(history, relationKey(rangeVarName(relation)), to, origin)
        // The table that had the name in the new schema cannot be there (the move would fail).
      }
      break
    case 'DropStmt':
      learnDrop(history, s)
      break
    case 'CreateFunctionStmt':
      learnFunction(history, s, origin)
      break
    case 'GrantStmt':
      learnGrant(history, s)
      break
    case 'CreateEnumStmt':
      history.enums.set(
        nameOf(s.typeName),
        (Array.isArray(s.vals) ? s.vals : []).map((v) => String(unwrap(v)?.[1].sval ?? '')),
      )
      break
    case 'CreatePolicyStmt': {
      const table = history.tables.get(relationKey(rangeVarName(s.table)))
      if (table !== undefined && typeof s.policy_name === 'string') table.policies.add(s.policy_name)
      break
    }
  }
}

/** A finding the end of a run adds to an earlier statement. */
export interface LateFinding {
  readonly origin: Origin
  readonly finding: Finding
}

/** Statement kinds that cannot change the session's time zone. */
const KEEPS_TIMEZONE: ReadonlySet<string> = new Set([
  'AlterTableStmt',
  'CreateStmt',
  'IndexStmt',
  'CommentStmt',
  'DropStmt',
  'RenameStmt',
  'GrantStmt',
])

const UTC_NAMES: ReadonlySet<string> = new Set(['utc', 'etc/utc', 'zulu', 'etc/zulu', 'gmt', 'etc/gmt'])

/**
 * Whether the session's time zone is known to be UTC after a top-level statement: set by `SET
 * [LOCAL] timezone = 'UTC'`, kept only across statements that cannot run code, lost to anything else.
 */
function utcAfter(before: boolean, kind: string, s: Fields): boolean {
  if (kind === 'VariableSetStmt') {
    const name = String(s.name ?? '').toLowerCase()
    if (s.kind === 'VAR_RESET_ALL') return false
    if (name !== 'timezone' && name !== 'time zone') return before
    const args = Array.isArray(s.args) ? s.args : []
    const constant = unwrap(args[0])?.[1].sval
    const value = constant !== null && typeof constant === 'object' ? String((constant as Fields).sval ?? '') : ''
    return s.kind === 'VAR_SET_VALUE' && args.length === 1 && UTC_NAMES.has(value.toLowerCase())
  }
  return before && KEEPS_TIMEZONE.has(kind)
}

/** A late finding of `rule` on `target`, worded by the rule itself. */
function lateFinding(rule: AnyRule, target: string, facts: Fields): Finding {
  return {
    rule: rule.id,
    tier: 'safe',
    severity: rule.severity ?? 'info',
    message: rule.message(target, facts),
    hint: typeof rule.hint === 'string' ? rule.hint : rule.hint(target, facts),
  }
}

/**
 * What can only be decided once every script of a run was read: with the Supabase profile, tables in
 * an exposed schema that never got row level security, and SECURITY DEFINER functions in one that
 * `anon` can still execute. Hazard findings (tier `safe`); a rule turned `off` by policy is left out.
 * Never throws.
 */
export function historyFindings(
  history: MigrationHistory,
  options: { readonly profile?: Profile; readonly policy?: ClassifyOptions['policy'] },
): LateFinding[] {
  if (options.profile !== 'supabase') return []
  const off = (rule: AnyRule) => options.policy?.rules?.[rule.id] === 'off'
  const out: LateFinding[] = []
  if (!off(supabaseRlsDisabledInPublic)) {
    for (const table of history.tables.values()) {
      if (table.rls || !SUPABASE_EXPOSED_SCHEMAS.has(schemaOf(table.name))) continue
      const finding = lateFinding(supabaseRlsDisabledInPublic, table.name, { policies: [...table.policies] })
      out.push({ origin: table.origin, finding })
    }
  }
  if (!off(supabaseAnonSecurityDefiner)) {
    for (const fn of history.functions.values()) {
      if (!fn.securityDefiner || fn.triggerFunction || !SUPABASE_EXPOSED_SCHEMAS.has(schemaOf(fn.name))) continue
      if (fn.revokedFrom.has('anon') && fn.revokedFrom.has('public')) continue
      out.push({ origin: fn.origin, finding: lateFinding(supabaseAnonSecurityDefiner, fn.name, {}) })
    }
  }
  return out
}

/**
 * At the end of a script classified without a carried history: adds the late findings to the
 * statements they belong to, and returns the script's tier (raised only when policy
 * `hazardsRaiseTier` says hazards raise it).
 */
export function finishScript(
  state: ScriptState,
  statements: ClassifiedStatement[],
  options: ClassifyOptions,
  tier: Tier,
): Tier {
  let out = tier
  for (const late of historyFindings(state.history, options)) {
    const i = late.origin.statement
    const s = statements[i]
    if (s === undefined || late.origin.script !== state.script) continue
    const raise = raisesTier(late.finding, options)
    const verdict = {
      ...s.verdict,
      tier: raise ? maxTier(s.verdict.tier, 'cautious') : s.verdict.tier,
      findings: [...s.verdict.findings, late.finding],
    }
    statements[i] = { ...s, verdict }
    out = maxTier(out, verdict.tier)
  }
  return out
}

/** True when policy `hazardsRaiseTier` makes this hazard finding raise its statement to `cautious`. */
export function raisesTier(finding: Finding, options: ClassifyOptions): boolean {
  const at = options.policy?.hazardsRaiseTier
  if (at === undefined) return false
  const order = ['info', 'warning', 'error']
  return order.indexOf(finding.severity) >= order.indexOf(at)
}
