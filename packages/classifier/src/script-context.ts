/**
 * What a drop loses depends on the script around it. A drop of a definition (a view, a function, a
 * trigger, a policy, an index, a constraint, a type) that the same script creates again is a
 * replacement: nothing is lost. A drop of an object the script itself created earlier loses only what
 * the script put there. A DROP TYPE or DROP DOMAIN without CASCADE cannot lose data: Postgres refuses
 * it while any column uses the type. In those cases the drop's findings become a note
 * (`replaced-object`) and the tier is what the rest of the statement says.
 *
 * Only top-level statements of one script count (one transaction for the executor), and never a
 * drop with CASCADE, which can take objects the script never named.
 */
import { mayRunCode } from './fresh-objects.js'
import { definitionsMade, indexKey, type KnownDefinition, triggerCovers } from './known-definitions.js'
import { relationKey } from './locks.js'
import { maxTier, type Tier } from './tier.js'
import type { ClassifiedStatement, Finding, Verdict } from './types.js'
import { type Fields, lastName, nameOf, rangeVarName, stringValue, unwrap } from './walk.js'

/** Rules whose findings say a drop loses something; the ones a replacement answers. */
const DROP_RULES: ReadonlySet<string> = new Set([
  'drop-table',
  'drop-object',
  'drop-function',
  'drop-index',
  'drop-trigger',
  'drop-constraint',
  'drop-schema',
])

/**
 * Definitions whose re-creation answers their drop: views and materialized views (no data of their
 * own), functions (a non-safe new body is then `replace-function`, as CREATE OR REPLACE is) and
 * policies (the new policy is classified on its own). Not indexes, constraints, triggers, rules or
 * event triggers: a re-creation under the same name may guard less (a unique index re-made plain, a
 * CHECK re-made `CHECK (true)`, an audit trigger re-made on a function that does nothing), and the
 * old definition is not in the script to compare with.
 */
const DEFINITIONS: ReadonlySet<string> = new Set(['view', 'matview', 'function', 'policy'])

interface Key {
  readonly kind: string
  readonly name: string
}

/** Names arrive folded by the parser (`Users` only when quoted): compared as they are, never lower-cased again. */
const keyText = (k: Key) => `${k.kind}:${k.name}`
/** The name as written, as the parser folds it: `users` and `public.users` are not assumed to be one object. */
const own = (name: string) => name

const DROP_KINDS: Readonly<Record<string, string>> = {
  OBJECT_TABLE: 'table',
  OBJECT_VIEW: 'view',
  OBJECT_MATVIEW: 'matview',
  OBJECT_INDEX: 'index',
  OBJECT_SEQUENCE: 'sequence',
  OBJECT_FUNCTION: 'function',
  OBJECT_PROCEDURE: 'function',
  OBJECT_ROUTINE: 'function',
  OBJECT_AGGREGATE: 'function',
  OBJECT_TRIGGER: 'trigger',
  OBJECT_POLICY: 'policy',
  OBJECT_RULE: 'rule',
  OBJECT_EVENT_TRIGGER: 'event trigger',
  OBJECT_TYPE: 'type',
  OBJECT_DOMAIN: 'type',
  OBJECT_SCHEMA: 'schema',
}

/** The objects a statement drops, or undefined when it is not a drop this module reasons about. */
function dropped(kind: string, node: Fields): { keys: Key[]; cascade: boolean; words: string } | undefined {
  if (kind === 'DropStmt') {
    const what = DROP_KINDS[String(node.removeType)]
    if (what === undefined) return undefined
    const objects = Array.isArray(node.objects) ? node.objects : []
    const keys = objects.map((o): Key => {
      const w = unwrap(o)
      if (w?.[0] === 'List') {
        const items = Array.isArray(w[1].items) ? w[1].items : []
        // Triggers, policies and rules: [schema?, table, name] -> table.name
        if (what === 'trigger' || what === 'policy' || what === 'rule') {
          return { kind: what, name: `${own(nameOf(items.slice(0, -1)))}.${lastName(items)}` }
        }
        return { kind: what, name: nameOf(items) }
      }
      if (w?.[0] === 'ObjectWithArgs') {
        // `DROP FUNCTION f(text)` names one overload: only `f(text)` made again answers it.
        const name = nameOf(w[1].objname)
        return { kind: what, name: w[1].args_unspecified === true ? name : `${name}(${argTypes(w[1].objargs)})` }
      }
      if (w?.[0] === 'TypeName') return { kind: what, name: nameOf(w[1].names) }
      if (w?.[0] === 'String') return { kind: what, name: stringValue(o) ?? '' }
      return { kind: what, name: '' }
    })
    return { keys, cascade: node.behavior === 'DROP_CASCADE', words: what.toUpperCase() }
  }
  if (kind === 'AlterTableStmt') {
    // The DROP CONSTRAINT subcommands; the statement's other subcommands keep their own findings.
    const cmds = (Array.isArray(node.cmds) ? node.cmds : [])
      .map((c) => unwrap(c)?.[1] ?? {})
      .filter((c) => c.subtype === 'AT_DropConstraint')
    if (cmds.length === 0) return undefined
    const table = own(rangeVarName(node.relation))
    return {
      keys: cmds.map((c) => ({ kind: 'constraint', name: `${table}.${String(c.name ?? '')}` })),
      cascade: cmds.some((c) => c.behavior === 'DROP_CASCADE'),
      words: 'CONSTRAINT',
    }
  }
  return undefined
}

/** The objects a statement creates; `fresh` when it cannot have found one already there. */
function created(kind: string, node: Fields): { keys: Key[]; fresh: boolean } {
  const one = (k: string, name: string, fresh: boolean) => ({
    keys: [{ kind: k, name: k === 'trigger' || k === 'policy' || k === 'rule' ? name : own(name) }],
    fresh,
  })
  switch (kind) {
    case 'CreateStmt':
      return {
        keys: [
          { kind: 'table', name: own(rangeVarName(node.relation)) },
          ...constraintKeys(own(rangeVarName(node.relation)), node.tableElts),
        ],
        fresh: node.if_not_exists !== true,
      }
    case 'ViewStmt':
      return one('view', rangeVarName(node.view), node.replace !== true)
    case 'CreateTableAsStmt': {
      const into = (node.into as Fields | undefined)?.rel
      const what = node.objtype === 'OBJECT_MATVIEW' ? 'matview' : 'table'
      return one(what, rangeVarName(into), node.if_not_exists !== true)
    }
    case 'IndexStmt':
      return one('index', String(node.idxname ?? ''), node.if_not_exists !== true && node.idxname !== undefined)
    case 'CreateSeqStmt':
      return one('sequence', rangeVarName(node.sequence), node.if_not_exists !== true)
    case 'CreateFunctionStmt': {
      const name = nameOf(node.funcname)
      const types = (Array.isArray(node.parameters) ? node.parameters : [])
        .map((p) => unwrap(p))
        .filter((w) => w?.[0] === 'FunctionParameter' && INPUT_MODES.has(String(w[1].mode ?? 'FUNC_PARAM_DEFAULT')))
        .map((w) => w?.[1].argType)
      // Filed under its name (what `DROP FUNCTION f` drops) and under its signature (what `DROP FUNCTION f(int)` drops).
      return {
        keys: [
          { kind: 'function', name },
          { kind: 'function', name: `${name}(${argTypes(types)})` },
        ],
        fresh: node.replace !== true,
      }
    }
    case 'CreateTrigStmt':
      return one('trigger', `${own(rangeVarName(node.relation))}.${String(node.trigname ?? '')}`, node.replace !== true)
    case 'CreatePolicyStmt':
      return one('policy', `${own(rangeVarName(node.table))}.${String(node.policy_name ?? '')}`, true)
    case 'RuleStmt':
      return one('rule', `${own(rangeVarName(node.relation))}.${String(node.rulename ?? '')}`, node.replace !== true)
    case 'CreateEventTrigStmt':
      return one('event trigger', String(node.trigname ?? ''), true)
    case 'CreateEnumStmt':
    case 'CreateRangeStmt':
      return one('type', nameOf(node.typeName), true)
    case 'CompositeTypeStmt':
      return one('type', rangeVarName(node.typevar), true)
    case 'CreateDomainStmt':
      return one('type', nameOf(node.domainname), true)
    case 'DefineStmt':
      if (node.kind === 'OBJECT_TYPE') return one('type', nameOf(node.defnames), true)
      if (node.kind === 'OBJECT_AGGREGATE') return one('function', nameOf(node.defnames), node.replace !== true)
      return { keys: [], fresh: false }
    case 'CreateSchemaStmt':
      return one('schema', String(node.schemaname ?? ''), node.if_not_exists !== true)
    case 'AlterTableStmt': {
      const table = own(rangeVarName(node.relation))
      const defs = (Array.isArray(node.cmds) ? node.cmds : [])
        .map((c) => unwrap(c)?.[1])
        .filter((c) => c?.subtype === 'AT_AddConstraint')
        .map((c) => c?.def)
      return { keys: constraintKeys(table, defs), fresh: true }
    }
  }
  return { keys: [], fresh: false }
}

/** Input argument modes: the ones a function's signature is made of. */
const INPUT_MODES: ReadonlySet<string> = new Set([
  'FUNC_PARAM_IN',
  'FUNC_PARAM_INOUT',
  'FUNC_PARAM_VARIADIC',
  'FUNC_PARAM_DEFAULT',
])

/** A list of argument types, comparable between DROP FUNCTION and CREATE FUNCTION (`int` and `integer` are one). */
function argTypes(types: unknown): string {
  return (Array.isArray(types) ? types : [])
    .map((t) => {
      const w = unwrap(t)
      const names = (w?.[0] === 'TypeName' ? w[1] : (t as Fields | undefined))?.names
      return nameOf(names)
    })
    .join(',')
}

function constraintKeys(table: string, elements: unknown): Key[] {
  const keys: Key[] = []
  for (const e of Array.isArray(elements) ? elements : []) {
    const w = unwrap(e)
    if (w?.[0] === 'Constraint' && typeof w[1].conname === 'string') {
      keys.push({ kind: 'constraint', name: `${table}.${w[1].conname}` })
    }
    // A column's own constraints (`x int CONSTRAINT c CHECK (...)`).
    if (w?.[0] === 'ColumnDef') keys.push(...constraintKeys(table, w[1].constraints))
  }
  return keys
}

/** Statement kinds that cannot rename or move an object, or change which object a name resolves to. */
const QUIET: ReadonlySet<string> = new Set([
  'CreateStmt',
  'IndexStmt',
  'InsertStmt',
  'UpdateStmt',
  'DeleteStmt',
  'SelectStmt',
  'CommentStmt',
  'ViewStmt',
  'CreateFunctionStmt',
  'CreateTrigStmt',
  'CreatePolicyStmt',
  'CreateSeqStmt',
  'AlterTableStmt',
  'DropStmt',
  'GrantStmt',
  'TruncateStmt',
  'CopyStmt',
  'CreateEnumStmt',
  'CreateDomainStmt',
  'CompositeTypeStmt',
  'CreateTableAsStmt',
])

/**
 * ALTER TABLE subcommands that put an existing table's rows under another table: a partition
 * attached to a table the script created goes with it when that table is dropped (`DROP TABLE` of a
 * partitioned table drops every partition, no CASCADE needed).
 */
const ADOPTS_ROWS: ReadonlySet<string> = new Set(['AT_AttachPartition'])

/** True for a quiet kind that also moves no old rows under another name (see {@link ADOPTS_ROWS}). */
function quietKind(node: readonly [string, Fields] | undefined): boolean {
  if (node === undefined || !QUIET.has(node[0])) return false
  if (node[0] !== 'AlterTableStmt') return true
  const cmds = Array.isArray(node[1].cmds) ? node[1].cmds : []
  return !cmds.some((c) => ADOPTS_ROWS.has(String(unwrap(c)?.[1].subtype)))
}

/** True when the statements in [from, to) are quiet kinds, each `safe` on its own. */
function quietWindow(
  statements: readonly ClassifiedStatement[],
  nodes: readonly (readonly [string, Fields] | undefined)[],
  from: number,
  to: number,
): boolean {
  for (let k = from; k < to; k++) {
    if (!quietKind(nodes[k])) return false
    // Code that may run (an unknown function, a trigger, dynamic SQL) could rename or re-point a
    // name; a plain data change or a drop cannot.
    const verdict = statements[k]?.verdict
    if (verdict === undefined || mayRunCode(verdict.findings)) return false
  }
  return true
}

function tierWithout(verdict: Verdict, findings: readonly Finding[]): Tier {
  let tier: Tier = 'safe'
  for (const f of findings) tier = maxTier(tier, f.tier)
  // A tier raised by policy for hazards stays as it was if a remaining hazard raised it.
  if (findings.some((f) => f.tier === 'safe' && f.severity !== 'info') && verdict.tier !== 'safe') {
    const dropTiers = verdict.findings.filter((f) => DROP_RULES.has(f.rule)).map((f) => f.tier)
    if (!dropTiers.includes(verdict.tier)) tier = maxTier(tier, verdict.tier)
  }
  return tier
}

/** The key known-definitions.ts files a dropped constraint, index or trigger under. */
function definitionKey(key: Key): string {
  return key.kind === 'index' ? indexKey(key.name.split('.').at(-1) ?? key.name) : keyText(key)
}

/** Statements that write rows (a row written while a constraint is gone is checked by nothing). */
const WRITES: ReadonlySet<string> = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CopyStmt'])

/** True when a statement in (i, j) writes rows. */
function writesBetween(nodes: readonly (readonly [string, Fields] | undefined)[], i: number, j: number): boolean {
  for (let k = i + 1; k < j; k++) if (WRITES.has(nodes[k]?.[0] ?? '')) return true
  return false
}

/**
 * True when statement `node` may add the dropped constraint `key` again with NOT VALID: it adds some
 * constraint NOT VALID (named or not: an unnamed one may take the old default name).
 */
function madeNotValid(node: readonly [string, Fields] | undefined, key: Key): boolean {
  if (node?.[0] !== 'AlterTableStmt' || key.kind !== 'constraint') return false
  return (Array.isArray(node[1].cmds) ? node[1].cmds : []).some((c) => {
    const cmd = unwrap(c)?.[1]
    const def = unwrap(cmd?.def)
    return cmd?.subtype === 'AT_AddConstraint' && def?.[0] === 'Constraint' && def[1].skip_validation === true
  })
}

/** Files statement `at` under `key`, once (statements are visited in one direction, so lists stay sorted). */
function push(map: Map<string, number[]>, key: string, at: number): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [at])
  else if (list.at(-1) !== at) list.push(at)
}

/** Kinds whose drop the history can answer: their old definition is compared with the new one. */
const GUARDS: ReadonlySet<string> = new Set(['constraint', 'index', 'trigger'])

/** The items of an ascending list that are >= `from` (binary search). */
function after(list: readonly number[] | undefined, from: number): readonly number[] {
  if (list === undefined) return []
  let lo = 0
  let hi = list.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((list[mid] as number) < from) lo = mid + 1
    else hi = mid
  }
  return list.slice(lo)
}

/** Where later statements make definitions, make keys and drop tables; and which windows rename nothing. */
interface LaterIndex {
  /** Statements making each definition key, ascending. */
  readonly made: Map<string, number[]>
  /** Statements making a PRIMARY KEY or UNIQUE constraint on each table, ascending. */
  readonly unique: Map<string, number[]>
  /** `DROP TABLE` statements of each table (names as the parser folds them), ascending. */
  readonly tableDrops: Map<string, number[]>
  /** `ALTER TABLE ... DROP COLUMN` statements of each `table.column` (names as the parser folds them), ascending. */
  readonly columnDrops: Map<string, number[]>
  /** True when nothing in (i, j) renames or re-points a name, or may run code that could. */
  quiet(i: number, j: number): boolean
  /** True when a statement in (i, j] creates a relation named like `table` (a temporary table would shadow it). */
  shadowed(table: string, i: number, j: number): boolean
}

/** Statements that create a relation under a name (a temporary one shadows the old table). */
const RELATION_MAKERS: Readonly<Record<string, (node: Fields) => unknown>> = {
  CreateStmt: (n) => n.relation,
  CreateTableAsStmt: (n) => (n.into as Fields | undefined)?.rel,
  ViewStmt: (n) => n.view,
  CreateSeqStmt: (n) => n.sequence,
  CreateForeignTableStmt: (n) => (n.base as Fields | undefined)?.relation,
  // `SELECT ... INTO TEMP t` creates a table as CREATE TABLE AS does.
  SelectStmt: (n) => (n.intoClause as Fields | undefined)?.rel,
}

const relname = (table: string) => table.split('.').at(-1) ?? table

function laterIndex(
  statements: readonly ClassifiedStatement[],
  nodes: readonly (readonly [string, Fields] | undefined)[],
  made: readonly (ReadonlyMap<string, KnownDefinition> | undefined)[],
): LaterIndex {
  const index: LaterIndex = {
    made: new Map(),
    unique: new Map(),
    tableDrops: new Map(),
    columnDrops: new Map(),
    quiet: () => false,
    shadowed: () => true,
  }
  const creates = new Map<string, number[]>()
  // loud[k]: statements before k that are not quiet kinds, or may run code (a data change is neither).
  const loud = new Array<number>(statements.length + 1).fill(0)
  for (let k = 0; k < statements.length; k++) {
    const noisy = !quietKind(nodes[k]) || mayRunCode(statements[k]?.verdict.findings ?? [])
    loud[k + 1] = (loud[k] as number) + (noisy ? 1 : 0)
    for (const [key, def] of made[k] ?? []) {
      push(index.made, key, k)
      if (def.unique !== undefined) push(index.unique, def.table, k)
    }
    const n = nodes[k]
    const maker = n === undefined ? undefined : RELATION_MAKERS[n[0]]
    const rv = n === undefined || maker === undefined ? undefined : (maker(n[1]) as Fields | undefined)
    if (rv !== undefined) push(creates, String(rv.relname ?? ''), k)
    if (n?.[0] === 'AlterTableStmt') {
      const table = relationKey(rangeVarName(n[1].relation))
      for (const c of Array.isArray(n[1].cmds) ? n[1].cmds : []) {
        const cmd = unwrap(c)?.[1]
        if (cmd?.subtype === 'AT_DropColumn' && typeof cmd.name === 'string') {
          push(index.columnDrops, `${table}.${cmd.name}`, k)
        }
      }
    }
    if (n?.[0] === 'DropStmt' && n[1].removeType === 'OBJECT_TABLE') {
      for (const o of Array.isArray(n[1].objects) ? n[1].objects : []) {
        push(index.tableDrops, relationKey(nameOf(unwrap(o)?.[1].items)), k)
      }
    }
  }
  return {
    ...index,
    quiet: (i, j) => j <= i + 1 || loud[j] === loud[i + 1],
    shadowed: (table, i, j) => {
      const first = after(creates.get(relname(table)), i + 1)[0]
      return first !== undefined && first <= j
    },
  }
}

/** The definitions a statement makes, or undefined when it makes none (most statements). */
function madeBy(kind: string, node: Fields): ReadonlyMap<string, KnownDefinition> | undefined {
  const made = definitionsMade(kind, node)
  return made.length === 0 ? undefined : new Map(made)
}

/** Rewrites the verdicts of drops that the script around them shows lose nothing (see the module comment). */
export function applyScriptContext(
  statements: ClassifiedStatement[],
  nodes: readonly (readonly [string, Fields] | undefined)[],
  bodyTier: (name: string) => Tier | undefined,
  droppedDefinitions: ReadonlyMap<number, ReadonlyMap<string, KnownDefinition>> = new Map(),
  createdNew: ReadonlySet<number> = new Set(),
): void {
  const facts = nodes.map((n) =>
    n === undefined
      ? undefined
      : { dropped: dropped(n[0], n[1]), created: created(n[0], n[1]), made: madeBy(n[0], n[1]) },
  )
  // What the history proves new counts as created fresh, whatever IF NOT EXISTS / OR REPLACE allowed.
  for (const at of createdNew) {
    const f = facts[at]
    if (f !== undefined) facts[at] = { ...f, created: { ...f.created, fresh: true } }
  }
  // Fresh creations by key, latest first: the drop looks at the last one before it.
  let creations: Map<string, number[]> | undefined
  const earlier = () => {
    if (creations === undefined) {
      creations = new Map()
      for (let j = facts.length - 1; j >= 0; j--) {
        const c = facts[j]?.created
        if (c?.fresh !== true) continue
        for (const k of c.keys) {
          push(creations, keyText(k), j)
        }
      }
    }
    return creations
  }
  // Drops by key, ascending.
  let drops: Map<string, number[]> | undefined
  const dropsOf = () => {
    if (drops === undefined) {
      drops = new Map()
      for (let j = 0; j < facts.length; j++) {
        for (const k of facts[j]?.dropped?.keys ?? []) {
          push(drops, keyText(k), j)
        }
      }
    }
    return drops
  }
  let index: LaterIndex | undefined
  const later = () => {
    index ??= laterIndex(
      statements,
      nodes,
      facts.map((f) => f?.made),
    )
    return index
  }
  for (let i = 0; i < statements.length; i++) {
    const statement = statements[i] as ClassifiedStatement
    const drop = facts[i]?.dropped
    if (drop === undefined || drop.cascade || drop.keys.length === 0) continue
    if (!statement.verdict.findings.some((f) => DROP_RULES.has(f.rule))) continue
    const typeOnly = drop.keys.every((k) => k.kind === 'type')
    const reasons: string[] = []
    const replaced: { at: number; name: string }[] = []
    const answered = drop.keys.every((key) => {
      if (key.name === '') return false
      const text = keyText(key)
      if (typeOnly) {
        reasons.push(`${key.name}: Postgres refuses to drop a type that any column still uses (no CASCADE)`)
        return true
      }
      for (const j of earlier().get(text) ?? []) {
        if (j >= i) continue
        // A drop in between took the script's object: this drop reaches another one of that name
        // (an older table a temporary one shadowed, or one further down the search_path).
        const consumed = after(dropsOf().get(text), j + 1)[0]
        if (consumed !== undefined && consumed < i) return false
        const c = facts[j]?.created
        if (c?.fresh === true && c.keys.some((k) => keyText(k) === text)) {
          // Between the creation and the drop nothing may rename, move or re-point names: a
          // `RENAME TO` or a search_path change could make the drop reach an object that was there before.
          if (!quietWindow(statements, nodes, j + 1, i)) return false
          reasons.push(`${key.name} was created by this script at line ${statements[j]?.span.line}`)
          return true
        }
      }
      if (!DEFINITIONS.has(key.kind)) {
        if (!GUARDS.has(key.kind)) return false
        // A constraint, index or trigger: answered by what the history knows of the old one, or by
        // the DROP TABLE that follows and takes it anyway.
        const index = later()
        const old = droppedDefinitions.get(i)?.get(definitionKey(key))
        if (old !== undefined) {
          // Made again the same, possibly by the same ALTER TABLE (`DROP CONSTRAINT "T_pkey", ..., ADD CONSTRAINT "T_pkey" ...`).
          for (const j of after(index.made.get(definitionKey(key)), i)) {
            if (!index.quiet(i, j) || index.shadowed(old.table, i, j)) break
            const again = facts[j]?.made?.get(definitionKey(key))
            // Made again NOT VALID after rows were written in between: those rows were never
            // checked, so the old guarantee (every row passes) may no longer hold.
            if (again !== undefined && madeNotValid(nodes[j], key) && writesBetween(nodes, i, j)) break
            if (again?.shape === old.shape) {
              reasons.push(`${key.name} is created again with the same definition at line ${statements[j]?.span.line}`)
              return true
            }
            if (again !== undefined && triggerCovers(old, again)) {
              reasons.push(
                `${key.name} is created again at line ${statements[j]?.span.line}, firing on every event it fired on before`,
              )
              return true
            }
          }
          // A uniqueness kept by a key on some of the same columns (`DROP CONSTRAINT t_a_key, ADD
          // PRIMARY KEY (a)`): every set of rows it refused is still refused.
          if (old.unique !== undefined) {
            for (const j of after(index.unique.get(old.table), i)) {
              if (!index.quiet(i, j) || index.shadowed(old.table, i, j)) break
              const covers = [...(facts[j]?.made?.values() ?? [])].some(
                (d) =>
                  d.table === old.table &&
                  d.unique !== undefined &&
                  (d.primary === true || old.primary !== true) &&
                  d.unique.every((c) => old.unique?.includes(c)),
              )
              if (covers) {
                reasons.push(
                  `${key.name}'s uniqueness is kept by a key on the same columns at line ${statements[j]?.span.line}`,
                )
                return true
              }
            }
          }
          if (key.kind === 'index' && old.guards !== true) {
            reasons.push(`${key.name} is a plain index (no uniqueness): no rows and no guarantee go with it`)
            return true
          }
        }
        // A key or foreign key whose columns the script drops (later, or in the same ALTER TABLE) goes with them.
        if (old?.columns !== undefined && key.kind === 'constraint') {
          let last = -1
          for (const column of old.columns) {
            const at = after(index.columnDrops.get(`${old.table}.${column}`), i)[0]
            if (at === undefined || !index.quiet(i, at) || index.shadowed(old.table, i, at)) {
              last = -1
              break
            }
            last = Math.max(last, at)
          }
          if (last !== -1) {
            reasons.push(
              `${key.name} goes with column${old.columns.length > 1 ? 's' : ''} ${old.columns.join(', ')}, dropped by line ${statements[last]?.span.line}`,
            )
            return true
          }
        }
        // A constraint or trigger names its table; an index's table is known only from its definition.
        const own = key.kind === 'index' ? undefined : relationKey(key.name.slice(0, key.name.lastIndexOf('.')))
        for (const table of [old?.table ?? own, old?.references]) {
          if (table === undefined) continue
          const at = after(index.tableDrops.get(table), i + 1)[0]
          if (at !== undefined && index.quiet(i, at) && !index.shadowed(table, i, at)) {
            reasons.push(`${key.name} goes with table ${table}, dropped at line ${statements[at]?.span.line}`)
            return true
          }
        }
        return false
      }
      for (let j = i + 1; j < statements.length; j++) {
        if (facts[j]?.created.keys.some((k) => keyText(k) === text)) {
          reasons.push(`${key.name} is created again at line ${statements[j]?.span.line}`)
          if (key.kind === 'function') replaced.push({ at: j, name: key.name.replace(/\(.*$/, '') })
          return true
        }
      }
      return false
    })
    if (!answered) continue
    const kept = statement.verdict.findings.filter((f) => !DROP_RULES.has(f.rule))
    const note: Finding = {
      rule: 'replaced-object',
      tier: 'safe',
      severity: 'info',
      message: `DROP ${drop.words} loses nothing here: ${reasons.join('; ')}.`,
      hint: 'Keep the drop and its re-creation in the same script (one transaction), so no client sees the object missing.',
    }
    const findings = [...kept, note]
    statements[i] = {
      ...statement,
      verdict: { ...statement.verdict, findings, tier: tierWithout(statement.verdict, kept) },
    }
    // Whatever called the dropped function calls the new one: a non-safe body is a replacement.
    for (const { at, name } of replaced) {
      const tier = bodyTier(name)
      const again = statements[at]
      if (again === undefined || tier === undefined || tier === 'safe') continue
      if (again.verdict.findings.some((f) => f.rule === 'replace-function')) continue
      const finding: Finding = {
        rule: 'replace-function',
        tier: 'cautious',
        severity: 'warning',
        message: `DROP then CREATE FUNCTION ${name} (its new body is ${tier}): triggers, views, defaults and callers that already use it run the new body from now on.`,
        hint: 'Read the body’s notes; if callers must not change behaviour, create the function under a new name and switch callers over.',
      }
      statements[at] = {
        ...again,
        verdict: {
          ...again.verdict,
          findings: [finding, ...again.verdict.findings],
          tier: maxTier(again.verdict.tier, 'cautious'),
        },
      }
    }
  }
}
