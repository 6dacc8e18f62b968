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

const keyText = (k: Key) => `${k.kind}:${k.name.toLowerCase()}`
/** The name as written, lower-case: `users` and `public.users` are not assumed to be one object. */
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
      if (w?.[0] === 'ObjectWithArgs') return { kind: what, name: nameOf(w[1].objname) }
      if (w?.[0] === 'TypeName') return { kind: what, name: nameOf(w[1].names) }
      if (w?.[0] === 'String') return { kind: what, name: stringValue(o) ?? '' }
      return { kind: what, name: '' }
    })
    return { keys, cascade: node.behavior === 'DROP_CASCADE', words: what.toUpperCase() }
  }
  if (kind === 'AlterTableStmt') {
    const cmds = (Array.isArray(node.cmds) ? node.cmds : []).map((c) => unwrap(c)?.[1] ?? {})
    if (cmds.length === 0 || cmds.some((c) => c.subtype !== 'AT_DropConstraint')) return undefined
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
    case 'CreateFunctionStmt':
      return one('function', nameOf(node.funcname), node.replace !== true)
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

/** True when the statements in [from, to) are quiet kinds, each `safe` on its own. */
function quietWindow(
  statements: readonly ClassifiedStatement[],
  nodes: readonly (readonly [string, Fields] | undefined)[],
  from: number,
  to: number,
): boolean {
  for (let k = from; k < to; k++) {
    const kind = nodes[k]?.[0]
    if (kind === undefined || !QUIET.has(kind)) return false
    const verdict = statements[k]?.verdict
    // A drop answered earlier already became safe; any other finding that raises the tier may hide code.
    if (verdict === undefined || verdict.tier !== 'safe') return false
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

/** The largest entry of an ascending list below `i`. */
function lastBelow(list: readonly number[] | undefined, i: number): number | undefined {
  if (list === undefined) return undefined
  let lo = 0
  let hi = list.length // the first entry >= i
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((list[mid] as number) < i) lo = mid + 1
    else hi = mid
  }
  return lo === 0 ? undefined : list[lo - 1]
}

/** The smallest entry of an ascending list above `i`. */
function firstAbove(list: readonly number[] | undefined, i: number): number | undefined {
  if (list === undefined) return undefined
  let lo = 0
  let hi = list.length // the first entry > i
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((list[mid] as number) <= i) lo = mid + 1
    else hi = mid
  }
  return list[lo]
}

/** Rewrites the verdicts of drops that the script around them shows lose nothing (see the module comment). */
export function applyScriptContext(
  statements: ClassifiedStatement[],
  nodes: readonly (readonly [string, Fields] | undefined)[],
  bodyTier: (name: string) => Tier | undefined,
): void {
  const facts = nodes.map((n) =>
    n === undefined ? undefined : { dropped: dropped(n[0], n[1]), created: created(n[0], n[1]) },
  )
  // The statements creating each object, in order, and those of them that create it fresh: a drop
  // looks up its objects here instead of scanning the script (quadratic on 100,000 statements).
  const createdAt = new Map<string, number[]>()
  const freshAt = new Map<string, number[]>()
  const note = (index: Map<string, number[]>, text: string, at: number) => {
    const list = index.get(text)
    if (list === undefined) index.set(text, [at])
    else if (list[list.length - 1] !== at) list.push(at)
  }
  for (let j = 0; j < facts.length; j++) {
    const c = facts[j]?.created
    if (c === undefined) continue
    for (const k of c.keys) {
      note(createdAt, keyText(k), j)
      if (c.fresh) note(freshAt, keyText(k), j)
    }
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
      // The last statement before the drop that created it fresh.
      const before = lastBelow(freshAt.get(text), i)
      if (before !== undefined) {
        const j = before
        // Between the creation and the drop nothing may rename, move or re-point names: a
        // `RENAME TO` or a search_path change could make the drop reach an object that was there before.
        if (!quietWindow(statements, nodes, j + 1, i)) return false
        reasons.push(`${key.name} was created by this script at line ${statements[j]?.span.line}`)
        return true
      }
      if (!DEFINITIONS.has(key.kind)) return false
      // The first statement after the drop that creates it again.
      const j = firstAbove(createdAt.get(text), i)
      if (j === undefined) return false
      reasons.push(`${key.name} is created again at line ${statements[j]?.span.line}`)
      if (key.kind === 'function') replaced.push({ at: j, name: key.name })
      return true
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
