/**
 * Turns one parsed statement into a verdict: dispatches every rule on every node of its tree,
 * follows SQL embedded in it (function bodies, DO blocks, EXECUTE strings), applies the policy.
 */

import { eventTriggerReach, recordDeferred } from './deferred-code.js'
import { recordFresh } from './fresh-objects.js'
import { type FunctionReference, recordFunction, signatureOf } from './function-refs.js'
import { recordStatement } from './hazard-state.js'
import { absentFromHistory } from './history.js'
import { statementLocks } from './locks.js'
import type { Policy } from './policy.js'
import type { AnyRule, RuleContext, RuleMatch, ScriptState, TieredMatch } from './rule.js'
import { deferredCode } from './rules/deferred-code.js'
import { kindRules, registry } from './rules/index.js'
import { replaceFunction } from './rules/replace-function.js'
import { unknownStatement } from './rules/unknown-statement.js'
import { compareTiers, maxTier, type Tier } from './tier.js'
import { transactionFacts } from './transaction.js'
import type { Finding, LockMode, Lowering, Severity, Verdict } from './types.js'
import { type Fields, nameOf, rangeVarName, unwrap, walk } from './walk.js'

/** EXPLAIN runs its statement only with ANALYZE. */
function explainExecutes(node: Fields): boolean {
  const options = Array.isArray(node.options) ? node.options : []
  return options.some((o) => {
    const w = unwrap(o)
    if (w?.[0] !== 'DefElem' || w[1].defname !== 'analyze') return false
    const arg = unwrap(w[1].arg)
    if (arg === undefined) return true
    const v =
      arg[0] === 'Boolean' ? String(arg[1].boolval === true) : String(arg[1].sval ?? arg[1].ival ?? '').toLowerCase()
    return !['false', 'off', '0', 'no'].includes(v)
  })
}

/** Lock modes, strongest first. */
const LOCK_ORDER: readonly LockMode[] = [
  'AccessExclusiveLock',
  'ExclusiveLock',
  'ShareRowExclusiveLock',
  'ShareLock',
  'ShareUpdateExclusiveLock',
  'RowExclusiveLock',
  'RowShareLock',
  'AccessShareLock',
]

export interface AnalyzeOptions {
  readonly policy: Policy | undefined
  readonly pgVersion: number
  /** Functions a profile knows to be side-effect free (`auth.uid`). */
  readonly knownFunctions: ReadonlySet<string>
  /** `ClassifyOptions.protectedTables`, handed to the rules. */
  readonly protectedTables?: readonly string[] | undefined
  /** `ClassifyOptions.policyHash`, written into each {@link Lowering}. */
  readonly policyHash?: string | undefined
  /** Classifies embedded SQL text with the same engine (set by classify.ts). */
  readonly classifyNested: (
    sql: string,
    state: ScriptState,
    depth: number,
  ) => { tier: Tier; findings: readonly Finding[] }
}

const MAX_NESTING = 8

/** Rules whose findings mean the statement may act outside the transaction (a rollback cannot undo it). */
export const ESCAPING_RULES: ReadonlySet<string> = new Set([
  'dangerous-function',
  'unknown-function',
  'call-destructive-function',
  'copy-server-file',
  'load-library',
  'alter-system',
  'dynamic-sql',
  'unreadable-body',
  'execute-prepared',
  'unknown-statement',
  'unparsed-statement',
  'unparsed-destructive',
])

function severityOf(rule: AnyRule, tier: Tier): Severity {
  if (rule.severity !== undefined) return rule.severity
  return tier === 'destructive' ? 'error' : tier === 'cautious' ? 'warning' : 'info'
}

/** Glob over schema-qualified names: `*` within one part, `**` across parts. */
export function globMatches(glob: string, name: string): boolean {
  let pattern = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string
    if (c === '*') {
      if (glob[i + 1] === '*') {
        pattern += '.*'
        i++
      } else pattern += '[^.]*'
    } else pattern += c.replace(/[\\^$.|?+()[\]{}]/g, '\\$&')
  }
  return new RegExp(`^${pattern}$`, 'i').test(name)
}

function policyTier(policy: Policy | undefined, rule: AnyRule, target: string, base: Tier): Tier | 'off' {
  let tier: Tier | 'off' = base
  const configured = policy?.rules?.[rule.id]
  if (configured !== undefined) tier = configured === 'off' && !rule.hazard ? rule.tier : configured
  for (const entry of policy?.allow ?? []) {
    if (entry.rule !== rule.id || target === '') continue
    if (entry.objects.some((glob) => globMatches(glob, target))) tier = entry.tier ?? 'safe'
  }
  // What the engine could not read stays at least cautious, whatever the policy says.
  if (FAIL_CLOSED_RULES.has(rule.id) && (tier === 'off' || tier === 'safe')) return 'cautious'
  return tier
}

/** What policy did to a tier rule's finding, when it moved it below the rule's own tier. */
function loweringOf(rule: AnyRule, effective: Tier, base: Tier, policyHash: string | undefined): Lowering | undefined {
  if (rule.hazard === true || compareTiers(effective, base) >= 0) return undefined
  return { rule: rule.id, from: base, to: effective, ...(policyHash !== undefined ? { policyHash } : {}) }
}

/** Rules that say "safe-ddl cannot read this": policy may not make them safe. */
const FAIL_CLOSED_RULES: ReadonlySet<string> = new Set([
  'unknown-statement',
  'unknown-alter-table-action',
  'dynamic-sql',
  'unreadable-body',
  'unknown-function',
  'lexer-setting',
])

function matches(result: RuleMatch, fallbackTarget: string, tier: Tier): readonly TieredMatch[] {
  if (result === undefined || result === false) return []
  if (result === true) return [{ target: fallbackTarget, tier }]
  if (typeof result === 'string') return [{ target: result, tier }]
  return result.map((m) => (typeof m === 'string' ? { target: m, tier } : m))
}

/**
 * Findings in a definition's body that keep their tier: what they do reaches outside the transaction
 * (signals, server files, other servers, the server's configuration, how SQL text is read) or is code
 * safe-ddl cannot read, so neither the effect check nor undo can see it when the function is called.
 */
export const DEFINITION_ESCAPES: ReadonlySet<string> = new Set([
  'dangerous-function',
  'copy-server-file',
  'load-library',
  'alter-system',
  'lexer-setting',
  'unreadable-body',
  'unknown-statement',
  'unparsed-statement',
  'unparsed-destructive',
])

/**
 * Escapes whose call alone reaches outside: in a migration history read from its first migration
 * (`MigrationHistory.fromStart`) every later call is judged by the carried body, so the definition
 * itself loses nothing and gets a note. Code that may run when the function is created (a C library
 * is loaded to check its symbol) or cannot be read keeps its tier everywhere.
 */
const CALL_TIME_ESCAPES: ReadonlySet<string> = new Set([
  'dangerous-function',
  'copy-server-file',
  'alter-system',
  'lexer-setting',
])

/**
 * The context rules get for one statement. A class so that the two getters live on its prototype:
 * an object literal with getters is built by a runtime call, about 0.7 µs per statement.
 */
class StatementContext implements RuleContext {
  /** What `ancestors` and `relation` read; the walk updates them. */
  currentAncestors: readonly string[] = []
  currentRelation = ''
  currentType = ''
  protectedTables: readonly string[] | undefined
  constructor(
    readonly text: string,
    readonly statementKind: string,
    readonly script: ScriptState,
    readonly pgVersion: number,
    readonly knownFunctions: ReadonlySet<string>,
    readonly nested: RuleContext['nested'],
    readonly nestedDefinition: RuleContext['nestedDefinition'],
    readonly target: RuleContext['target'],
    readonly lock: RuleContext['lock'],
    readonly report: RuleContext['report'],
  ) {}
  get ancestors(): readonly string[] {
    return this.currentAncestors
  }
  get relation(): string {
    return this.currentRelation
  }
  get nodeType(): string {
    return this.currentType
  }
}

/** The statements of a BEGIN ATOMIC body (a list of lists), or the RETURN of a RETURN body. */
function atomicStatements(body: unknown): (readonly [string, Fields])[] {
  const out: (readonly [string, Fields])[] = []
  const visit = (node: unknown): void => {
    const w = unwrap(node)
    if (w === undefined) return
    if (w[0] === 'List') {
      for (const item of Array.isArray(w[1].items) ? w[1].items : []) visit(item)
      return
    }
    // RETURN expr is evaluated like a SELECT of it.
    out.push(w[0] === 'ReturnStmt' ? ['SelectStmt', { targetList: [{ ResTarget: { val: w[1].returnval } }] }] : w)
  }
  visit(body)
  return out
}

/** Analyzes one top-level statement. `depth` counts levels of embedded SQL. */
export function analyzeStatement(
  kind: string,
  fields: Fields,
  text: string,
  state: ScriptState,
  options: AnalyzeOptions,
  depth = 0,
): Verdict {
  const findings: Finding[] = []
  const seen = new Set<string>()
  const targets: string[] = []
  let tier: Tier = 'safe'
  let lock: LockMode | null = null
  let rewrite = false
  let scan = false

  const add = (rule: AnyRule, target: string, node: Fields, base: Tier = rule.tier): void => {
    const effective = policyTier(options.policy, rule, target, base)
    if (effective === 'off') return
    const message = rule.message(target, node)
    const key = `${rule.id}\u0000${message}`
    if (seen.has(key)) return
    seen.add(key)
    const hint = typeof rule.hint === 'string' ? rule.hint : rule.hint(target, node)
    const severity = severityOf(rule, effective)
    const lowered = options.policy === undefined ? undefined : loweringOf(rule, effective, base, options.policyHash)
    findings.push({
      rule: rule.id,
      tier: rule.hazard ? 'safe' : effective,
      severity,
      message,
      hint,
      ...(lowered !== undefined ? { lowered } : {}),
    })
    if (!rule.hazard) tier = maxTier(tier, effective)
    else if (options.policy?.hazardsRaiseTier !== undefined) {
      const order: Severity[] = ['info', 'warning', 'error']
      if (order.indexOf(severity) >= order.indexOf(options.policy.hazardsRaiseTier)) tier = maxTier(tier, 'cautious')
    }
  }

  const embed = (sql: string, where: string): { tier: Tier; findings: readonly Finding[] } | undefined => {
    if (depth + 1 > MAX_NESTING) {
      add(unknownStatement, `${where} (SQL nested more than ${MAX_NESTING} levels deep)`, {})
      return undefined
    }
    return options.classifyNested(sql, state, depth + 1)
  }
  const merge = (f: Finding, message: string): void => {
    const key = `${f.rule}\u0000${message}`
    if (seen.has(key)) return
    seen.add(key)
    findings.push({ ...f, message })
  }

  /** Merges a definition body's findings: escapes keep their tier, the rest become notes. */
  const absorbDefinition = (inner: { readonly findings: readonly Finding[] }, where: string): void => {
    const calls = state.bodyCalls
    for (const f of inner.findings) {
      // Unknown calls are collected by the rule itself; everything else counts as the body's own.
      if (calls !== undefined && f.rule !== 'unknown-function') calls.other = maxTier(calls.other, f.tier)
      const escapes = DEFINITION_ESCAPES.has(f.rule) && !(state.history.fromStart && CALL_TIME_ESCAPES.has(f.rule))
      if (f.tier === 'safe' || escapes) {
        merge(f, `${where}: ${f.message}`)
        tier = maxTier(tier, f.tier)
      } else {
        // What the body does to data runs when the function is called: the call is gated (and
        // measured by the executor's effect check); the definition loses nothing. A note.
        merge(
          {
            rule: 'function-body',
            tier: 'safe',
            severity: f.tier === 'destructive' ? 'warning' : 'info',
            message: '',
            hint: `A call to it is classified ${f.tier}. ${f.hint}`,
          },
          `${where}, when called (${f.tier}, ${f.rule}): ${f.message}`,
        )
      }
    }
  }

  const ctx = new StatementContext(
    text,
    kind,
    state,
    options.pgVersion,
    options.knownFunctions,
    (sql, where) => {
      const inner = embed(sql, where)
      if (inner === undefined) {
        tier = 'destructive'
        return 'destructive'
      }
      for (const f of inner.findings) merge(f, `${where}: ${f.message}`)
      tier = maxTier(tier, inner.tier)
      return inner.tier
    },
    (sql, where) => {
      const inner = embed(sql, where)
      if (inner === undefined) {
        tier = 'destructive'
        return 'destructive'
      }
      absorbDefinition(inner, where)
      return inner.tier
    },
    (name) => {
      if (name !== '' && !targets.includes(name)) targets.push(name)
    },
    (mode, effects) => {
      if (lock === null || LOCK_ORDER.indexOf(mode) < LOCK_ORDER.indexOf(lock)) lock = mode
      if (effects?.rewrite) rewrite = true
      if (effects?.scan) scan = true
    },
    (rule, target) => {
      add(rule, target, {})
    },
  )
  ctx.protectedTables = options.protectedTables

  if (!kindRules.has(kind)) add(unknownStatement, kind, fields)

  // A BEGIN ATOMIC or RETURN body is parsed with its CREATE FUNCTION: it is a definition's body,
  // classified apart from the statement (it runs when the function is called).
  let root = fields
  let atomicBody: unknown
  if (kind === 'CreateFunctionStmt' && fields.sql_body !== undefined) {
    // An empty object in its place: the rules still see that the body is there, the walk sees no node.
    root = { ...fields, sql_body: {} }
    atomicBody = fields.sql_body
  }

  walk({ [kind]: root }, (type, node, path) => {
    if (type === 'ExplainStmt' && !explainExecutes(node)) return false
    if (node.relation !== undefined && type.endsWith('Stmt')) ctx.currentRelation = rangeVarName(node.relation)
    const rules = registry.get(type)
    if (rules === undefined) return undefined
    ctx.currentAncestors = path
    ctx.currentType = type
    for (const rule of rules) {
      let result: RuleMatch
      try {
        result = rule.check(node, ctx)
      } catch (error) {
        // A rule that cannot read a node it was given fails closed.
        add(
          unknownStatement,
          `${type} (rule ${rule.id} failed: ${error instanceof Error ? error.message : String(error)})`,
          node,
        )
        continue
      }
      for (const m of matches(result, targets[0] ?? kind, rule.tier)) add(rule, m.target, node, m.tier)
    }
    return undefined
  })

  if (atomicBody !== undefined) {
    const name = `function ${nameOf(fields.funcname)}`
    let bodyTier: Tier = 'safe'
    const outer = state.bodyCalls
    const calls = { refs: [] as FunctionReference[], other: 'safe' as Tier }
    state.bodyCalls = calls
    try {
      for (const [type, node] of atomicStatements(atomicBody)) {
        const inner = analyzeStatement(type, node, text, state, options, depth + 1)
        bodyTier = maxTier(bodyTier, inner.tier)
        absorbDefinition(inner, `in ${name}`)
      }
    } finally {
      state.bodyCalls = outer
    }
    recordFunction(state, signatureOf(fields.funcname, fields.parameters), bodyTier, calls)
    if (
      fields.replace === true &&
      bodyTier !== 'safe' &&
      !absentFromHistory(state.history, 'function', nameOf(fields.funcname))
    )
      add(replaceFunction, `${nameOf(fields.funcname)} (its new body is ${bodyTier})`, {})
  }

  const fired = eventTriggerReach(kind, state)
  if (fired !== undefined) add(deferredCode, fired.target, fields, fired.tier)
  recordDeferred(kind, fields, ctx, tier)

  const locks = statementLocks(kind, fields, options.pgVersion)
  if (locks.lock !== null) ctx.lock(locks.lock, { rewrite: locks.rewrite, scan: locks.scan })
  if (depth === 0) recordStatement(state.hazards, kind, fields, text, locks)
  if (depth === 0) recordFresh(kind, fields, state, findings)

  const tx = transactionFacts(kind, fields)
  findings.sort((a, b) => compareTiers(b.tier, a.tier))
  const lowerings = findings.flatMap((f) => (f.lowered !== undefined ? [f.lowered] : []))
  return {
    ...(lowerings.length > 0 ? { lowered: lowerings } : {}),
    tier,
    findings,
    targets,
    transactional: tx.transactional,
    transactionControl: tx.transactionControl,
    lock,
    rewrite,
    scan,
    rollbackSafe: tx.transactional && !findings.some((f) => ESCAPING_RULES.has(f.rule)),
  }
}
