/**
 * Code a definition stores to run later: a view's query, a column's DEFAULT, CHECK or generation
 * expression, an index expression, a domain's CHECK, a type's I/O functions, an operator's function,
 * a trigger's or rule's action, an event trigger's function. (Row level security policies are not
 * recorded: they do not apply to the table's owner or a superuser, the roles a script runs as.) Creating these
 * loses nothing; reading or writing through them later in the same script runs that code, and that
 * statement gets its tier (`deferred-code`). The engine records each statement after its rules ran.
 */
import { functionReferences, judgeFunction, signatureOf } from './function-refs.js'
import type { DeferredCode, RuleContext, ScriptState } from './rule.js'
import { maxTier, type Tier } from './tier.js'
import { type Fields, lastName, nameOf, rangeVarName, unwrap, walk } from './walk.js'

/** The lower-case own name of a relation or type (schemas are ignored: fail closed, never miss). */
export function deferredKey(name: string): string {
  return (name.split('.').at(-1) ?? name).toLowerCase()
}

/** The tier of the code an expression (or a whole statement) runs, and what runs it. */
export function codeTier(root: unknown, ctx: Pick<RuleContext, 'script' | 'knownFunctions'>): DeferredCode {
  let tier: Tier = 'safe'
  let via = ''
  const raise = (t: Tier, what: string): void => {
    if (t === 'safe') return
    if (tier === 'safe' || (t === 'destructive' && tier !== 'destructive')) via = what
    tier = maxTier(tier, t)
  }
  walk(root, (type, node) => {
    for (const ref of functionReferences(type, node)) {
      const judged = judgeFunction(ref, ctx)
      const name = ref.operator === true ? `operator ${ref.name}` : `${ref.name}()`
      if (judged.kind === 'dangerous') raise('destructive', name)
      else if (judged.kind === 'defined') raise(judged.tier, name)
      else if (judged.kind === 'unknown') raise('cautious', name)
    }
    if (type === 'TypeName') {
      const code = ctx.script.types.get(deferredKey(nameOf(node.names)))
      if (code !== undefined) raise(code.tier, code.via)
    }
    if (type === 'RangeVar') {
      const code = ctx.script.reads.get(deferredKey(rangeVarName(node)))
      if (code !== undefined) raise(code.tier, code.via)
    }
    return undefined
  })
  return { tier, via }
}

function record(map: Map<string, DeferredCode>, key: string, code: DeferredCode, what: string): void {
  if (code.tier === 'safe' || key === '') return
  const known = map.get(key)
  if (known !== undefined && known.tier === 'destructive') return
  if (known !== undefined && known.tier === code.tier) return
  map.set(key, { tier: maxTier(known?.tier ?? 'safe', code.tier), via: `${what} runs ${code.via}` })
}

/** The key under which code that every write runs is recorded (IMPORT FOREIGN SCHEMA of unnamed tables). */
const ANY_RELATION = '*'

/**
 * A foreign table's rows live on another server (possibly this one, through a loopback server):
 * writes go over a connection of their own, which the effect check does not measure (the server
 * keeps no statistics for foreign tables) and undo cannot keep. A DELETE, UPDATE, MERGE or TRUNCATE
 * of it is `destructive`, like `dblink_exec`; an INSERT `cautious`; reading it stays as it was.
 */
function recordForeign(state: ScriptState, key: string, what: string): void {
  for (const event of EVENTS) {
    // An INSERT removes nothing there; what the other server's triggers do with it is unknown code.
    const code: DeferredCode = {
      tier: event === 'insert' ? 'cautious' : 'destructive',
      via: 'writes on another server, over a connection no check of this transaction or undo sees',
    }
    record(state.writes, `${key}:${event}`, code, what)
  }
}

/** Column definitions and table constraints of a CREATE TABLE or ALTER TABLE ADD. */
function tableCode(elements: unknown, ctx: Pick<RuleContext, 'script' | 'knownFunctions'>): DeferredCode {
  return codeTier(elements, ctx)
}

/** Records what a statement defines for later statements to run (see the module comment). */
export function recordDeferred(
  kind: string,
  node: Fields,
  ctx: Pick<RuleContext, 'script' | 'knownFunctions'>,
  statementTier: Tier,
): void {
  const state: ScriptState = ctx.script
  switch (kind) {
    case 'ViewStmt': {
      const view = rangeVarName(node.view)
      record(state.reads, deferredKey(view), codeTier(node.query, ctx), `view ${view}`)
      break
    }
    case 'CreateTableAsStmt': {
      // A materialized view's query runs again on REFRESH.
      const into = node.into as Fields | undefined
      const name = rangeVarName(into?.rel)
      record(state.reads, deferredKey(name), codeTier(node.query, ctx), `materialized view ${name}`)
      break
    }
    case 'CreateStmt':
    case 'CreateForeignTableStmt': {
      const base = kind === 'CreateForeignTableStmt' ? ((node.base as Fields | undefined) ?? {}) : node
      const table = rangeVarName(base.relation)
      record(state.writes, deferredKey(table), tableCode(base.tableElts, ctx), `writing to ${table}`)
      if (kind === 'CreateForeignTableStmt') recordForeign(state, deferredKey(table), `foreign table ${table}`)
      break
    }
    case 'ImportForeignSchemaStmt': {
      // LIMIT TO names the tables it makes; ALL or EXCEPT makes tables nobody named: every write after
      // it may reach another server.
      const list = String(node.list_type ?? '') === 'FDW_IMPORT_SCHEMA_LIMIT_TO' ? node.table_list : undefined
      const names = (Array.isArray(list) ? list : []).map((r) => rangeVarName(unwrap(r)?.[1] ?? r))
      if (names.length === 0)
        recordForeign(state, ANY_RELATION, `IMPORT FOREIGN SCHEMA into ${String(node.local_schema ?? '')}`)
      for (const name of names) recordForeign(state, deferredKey(name), `foreign table ${name}`)
      break
    }
    case 'AlterTableStmt': {
      const table = rangeVarName(node.relation)
      record(state.writes, deferredKey(table), codeTier(node.cmds, ctx), `writing to ${table}`)
      break
    }
    case 'IndexStmt': {
      const table = rangeVarName(node.relation)
      record(
        state.writes,
        deferredKey(table),
        codeTier([node.indexParams, node.whereClause], ctx),
        `writing to ${table}`,
      )
      break
    }
    case 'CreateDomainStmt': {
      const domain = nameOf(node.domainname)
      record(state.types, deferredKey(domain), codeTier(node.constraints, ctx), `domain ${domain}`)
      break
    }
    case 'AlterDomainStmt': {
      const domain = nameOf(node.typeName)
      record(state.types, deferredKey(domain), codeTier(node.def, ctx), `domain ${domain}`)
      break
    }
    case 'DefineStmt': {
      const name = nameOf(node.defnames)
      const code = codeTier({ DefineStmt: { ...node, args: undefined } }, ctx)
      if (node.kind === 'OBJECT_OPERATOR') {
        if (code.tier !== 'safe') state.operators.set(lastName(node.defnames).toLowerCase(), code.tier)
      } else if (node.kind === 'OBJECT_TYPE') {
        record(state.types, deferredKey(name), code, `type ${name}`)
      } else if (node.kind === 'OBJECT_AGGREGATE') {
        if (code.tier !== 'safe') state.functions.set(signatureOf(node.defnames, 'unknown'), code.tier)
      }
      break
    }
    case 'CreateCastStmt': {
      const target = nameOf((node.targettype as Fields | undefined)?.names)
      record(state.types, deferredKey(target), codeTier({ CreateCastStmt: node }, ctx), `a cast to ${target}`)
      break
    }
    case 'CreateTrigStmt': {
      const table = rangeVarName(node.relation)
      const code = codeTier([{ CreateTrigStmt: { funcname: node.funcname } }, node.whenClause], ctx)
      // A trigger function nobody classified is unknown code on every write of the events it fires on.
      const events = typeof node.events === 'number' ? node.events : 0
      const fired = TRIGGER_EVENTS.filter(([bit]) => (events & bit) !== 0).map(([, name]) => name)
      for (const event of fired.length === 0 ? EVENTS : fired) {
        record(
          state.writes,
          `${deferredKey(table)}:${event}`,
          code,
          `trigger ${String(node.trigname ?? '')} on ${table}`,
        )
      }
      break
    }
    case 'CreateEventTrigStmt': {
      const code = codeTier({ CreateEventTrigStmt: { funcname: node.funcname } }, ctx)
      if (code.tier !== 'safe') {
        state.eventTrigger = { tier: code.tier, via: `event trigger ${String(node.trigname ?? '')} runs ${code.via}` }
      }
      break
    }
    case 'RuleStmt': {
      // A rule's actions are statements, classified with the CREATE RULE: a write to the table runs them.
      const table = rangeVarName(node.relation)
      const called = codeTier([node.actions, node.whereClause], ctx)
      const code = { tier: maxTier(called.tier, statementTier), via: called.via === '' ? 'its actions' : called.via }
      const what = `rule ${String(node.rulename ?? '')} on ${table}`
      const event = String(node.event ?? '')
        .replace(/^CMD_/, '')
        .toLowerCase()
      if (event === 'select') record(state.reads, deferredKey(table), code, what)
      else
        record(state.writes, EVENTS.includes(event) ? `${deferredKey(table)}:${event}` : deferredKey(table), code, what)
      break
    }
  }
}

/** Postgres's trigger event bits (TRIGGER_TYPE_INSERT, _DELETE, _UPDATE, _TRUNCATE). */
const TRIGGER_EVENTS: readonly (readonly [number, string])[] = [
  [4, 'insert'],
  [8, 'delete'],
  [16, 'update'],
  [32, 'truncate'],
]
const EVENTS = TRIGGER_EVENTS.map(([, name]) => name)

/** The trigger events each writing statement fires. */
const FIRES: Readonly<Record<string, readonly string[]>> = {
  InsertStmt: ['insert'],
  UpdateStmt: ['update'],
  DeleteStmt: ['delete'],
  MergeStmt: ['insert', 'update', 'delete'],
  CopyStmt: ['insert'],
  TruncateStmt: ['truncate'],
}

/** Statement kinds whose relations are read or written when they run (not definitions of them). */
const RUNS: ReadonlySet<string> = new Set([
  'SelectStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'MergeStmt',
  'CopyStmt',
  'CreateTableAsStmt',
  'ExplainStmt',
  'DeclareCursorStmt',
  'RefreshMatViewStmt',
  'TruncateStmt',
  'CallStmt',
  'DoStmt',
  'ExecuteStmt',
])

/** Kinds that neither run data code nor count as DDL for an event trigger. */
const NOT_DDL: ReadonlySet<string> = new Set([...RUNS, 'VariableSetStmt', 'VariableShowStmt', 'TransactionStmt'])

/** The event trigger a DDL statement of this kind fires, if the script created one that runs code. */
export function eventTriggerReach(kind: string, state: ScriptState): { target: string; tier: Tier } | undefined {
  const code = state.eventTrigger
  if (code === undefined || NOT_DDL.has(kind)) return undefined
  return { target: `${kind.replace(/Stmt$/, '')}: ${code.via}`, tier: code.tier }
}

/** What deferred code a node of a running statement reaches: relations read or written, types cast to. */
export function reachedCode(type: string, node: Fields, ctx: RuleContext): { target: string; tier: Tier }[] {
  const found: { target: string; tier: Tier }[] = []
  const add = (code: DeferredCode | undefined, what: string): void => {
    if (code !== undefined && code.tier !== 'safe') found.push({ target: `${what}: ${code.via}`, tier: code.tier })
  }
  if (!RUNS.has(ctx.statementKind)) return found
  switch (type) {
    case 'RangeVar': {
      const name = rangeVarName(node)
      add(ctx.script.reads.get(deferredKey(name)), name)
      break
    }
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt':
    case 'CopyStmt': {
      if (type === 'CopyStmt' && node.is_from !== true) break
      const name = rangeVarName(node.relation)
      const key = deferredKey(name)
      // DELETE evaluates no DEFAULT or CHECK: only its triggers and rules run.
      if (type !== 'DeleteStmt') add(ctx.script.writes.get(key), name)
      const upsert = (node.onConflictClause as Fields | undefined)?.action === 'ONCONFLICT_UPDATE'
      for (const event of [...(FIRES[type] ?? []), ...(upsert ? ['update'] : [])]) {
        add(ctx.script.writes.get(`${key}:${event}`), name)
        add(ctx.script.writes.get(`${ANY_RELATION}:${event}`), name)
      }
      break
    }
    case 'TruncateStmt': {
      for (const r of Array.isArray(node.relations) ? node.relations : []) {
        const name = rangeVarName(unwrap(r)?.[1])
        add(ctx.script.writes.get(`${deferredKey(name)}:truncate`), name)
        add(ctx.script.writes.get(`${ANY_RELATION}:truncate`), name)
      }
      break
    }
    case 'TypeCast': {
      const typeName = unwrap({ TypeName: node.typeName })?.[1]
      const name = nameOf(typeName?.names)
      add(ctx.script.types.get(deferredKey(name)), `a cast to ${name}`)
      break
    }
  }
  return found
}
