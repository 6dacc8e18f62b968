/**
 * One notion of "a function is referenced": every place the grammar lets a statement name a
 * function that Postgres will run, now or later. A call (`FuncCall`, also inside CALL), an operator
 * (whose function runs wherever the operator is used), and the definitions that make a function
 * callable under another name: operators, casts, aggregates, base types' I/O, range types, text
 * search parsers and templates, conversions, transforms, operator classes, foreign data wrappers,
 * procedural languages, access methods, triggers and event triggers. Creating such an alias of a
 * function is treated as calling it: the alias is how a harmless-looking statement runs it later.
 *
 * Every rule about functions (`dangerous-function`, `unknown-function`, `call-destructive-function`)
 * reads references through {@link functionReferences} and judges them with {@link judgeFunction}.
 */

import { dangerousWhat, functionKey, isDangerousFunction, SAFE_FUNCTIONS } from './functions.js'
import type { RuleContext, ScriptState } from './rule.js'
import { maxTier, type Tier } from './tier.js'
import { type Fields, nameOf, stringValue, unwrap } from './walk.js'

/** A function named by a statement. */
export interface FunctionReference {
  /** The name as written, schema-qualified when it was (`pg_catalog.lo_unlink`, `###`). */
  readonly name: string
  /** The function's own name, lower-case (`lo_unlink`). */
  readonly key: string
  /** The schema it was qualified with, lower-case, or undefined. */
  readonly schema: string | undefined
  /** How the statement reaches it: `call`, `operator`, or the definition that aliases it (`CREATE CAST ... WITH FUNCTION`). */
  readonly via: string
  /** True for an operator's own name (judged as an operator, not a function). */
  readonly operator?: boolean
  /** How many arguments a call passes (0 for a trigger's function), or undefined when unknown. */
  readonly args?: number
  /**
   * The exact argument types the reference names (`CREATE CAST ... WITH FUNCTION f(int)`, an
   * operator's LEFTARG and RIGHTARG): Postgres looks the function up by exactly these.
   */
  readonly exact?: string
}

/** Argument types as {@link signatureOf} files them. */
function typesText(types: readonly unknown[]): string {
  return types
    .map((t) => {
      const w = unwrap(t)
      return JSON.stringify((w?.[0] === 'TypeName' ? w[1] : (t as Fields | undefined))?.names ?? null)
    })
    .join(',')
}

/** A reference through an ObjectWithArgs (`f(int)`): exact when the argument types are written. */
function fromObject(obj: Fields | undefined, via: string): FunctionReference | undefined {
  const ref = reference(obj?.objname, via)
  if (ref === undefined || obj?.args_unspecified === true || !Array.isArray(obj?.objargs)) return ref
  return { ...ref, exact: typesText(obj.objargs) }
}

/** The argument types an operator's function takes: its LEFTARG and RIGHTARG, in that order. */
function operatorTypes(definition: unknown): string {
  const byName = new Map<string, unknown>()
  for (const o of Array.isArray(definition) ? definition : []) {
    const w = unwrap(o)
    if (w?.[0] === 'DefElem') byName.set(String(w[1].defname ?? '').toLowerCase(), w[1].arg)
  }
  return typesText(['leftarg', 'rightarg'].filter((k) => byName.has(k)).map((k) => byName.get(k)))
}

/** DefineStmt options that name a function, by the kind of object defined. */
const DEFINE_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  OBJECT_OPERATOR: ['function', 'procedure', 'restrict', 'join'],
  OBJECT_AGGREGATE: [
    'sfunc',
    'sfunc1',
    'finalfunc',
    'combinefunc',
    'serialfunc',
    'deserialfunc',
    'msfunc',
    'minvfunc',
    'mfinalfunc',
  ],
  OBJECT_TYPE: ['input', 'output', 'receive', 'send', 'typmod_in', 'typmod_out', 'analyze', 'subscript'],
  OBJECT_TSPARSER: ['start', 'gettoken', 'end', 'lextypes', 'headline'],
  OBJECT_TSTEMPLATE: ['init', 'lexize'],
}

/** ALTER TYPE ... SET (...) and ALTER OPERATOR ... SET (...) options that name a function. */
const ALTER_OPTIONS: ReadonlySet<string> = new Set([
  'receive',
  'send',
  'typmod_in',
  'typmod_out',
  'analyze',
  'subscript',
  'input',
  'output',
  'restrict',
  'join',
])

/** Range type parameters that name a function. */
const RANGE_OPTIONS: ReadonlySet<string> = new Set(['canonical', 'subtype_diff'])

/** Node kinds that can reference a function other than by a call. */
export const ALIAS_KINDS: readonly string[] = [
  'DefineStmt',
  'CreateCastStmt',
  'CreateTransformStmt',
  'CreateConversionStmt',
  'CreateOpClassStmt',
  'AlterOpFamilyStmt',
  'AlterOperatorStmt',
  'AlterTypeStmt',
  'CreateRangeStmt',
  'CreateFdwStmt',
  'AlterFdwStmt',
  'CreatePLangStmt',
  'CreateAmStmt',
  'CreateTrigStmt',
  'CreateEventTrigStmt',
]

/** Every node kind {@link functionReferences} reads. */
export const REFERENCE_KINDS: readonly string[] = ['FuncCall', 'A_Expr', ...ALIAS_KINDS]

function reference(names: unknown, via: string): FunctionReference | undefined {
  if (!Array.isArray(names) || names.length === 0) return undefined
  const own = stringValue(names[names.length - 1])
  if (own === undefined || own === '') return undefined
  const schema = names.length > 1 ? functionKey(nameOf(names.slice(0, -1))) : undefined
  return { name: nameOf(names), key: functionKey(own), schema, via }
}

/** The name list a DefElem's argument holds: `FUNCTION = f` arrives as a TypeName, `HANDLER h` as a List. */
function defElemNames(arg: unknown): unknown {
  const w = unwrap(arg)
  if (w === undefined) return undefined
  if (w[0] === 'TypeName') return w[1].names
  if (w[0] === 'List') return w[1].items
  if (w[0] === 'String') return [arg]
  if (w[0] === 'ObjectWithArgs') return w[1].objname
  return undefined
}

function fromOptions(
  options: unknown,
  names: ReadonlySet<string>,
  via: (option: string) => string,
): FunctionReference[] {
  const refs: FunctionReference[] = []
  if (!Array.isArray(options)) return refs
  for (const o of options) {
    const w = unwrap(o)
    if (w?.[0] !== 'DefElem') continue
    const option = String(w[1].defname ?? '').toLowerCase()
    if (!names.has(option)) continue
    const ref = reference(defElemNames(w[1].arg), via(option))
    if (ref !== undefined) refs.push(ref)
  }
  return refs
}

function push(refs: FunctionReference[], ref: FunctionReference | undefined): void {
  if (ref !== undefined) refs.push(ref)
}

const memo = new WeakMap<Fields, readonly FunctionReference[]>()

/** The functions a node references (see the module comment). Memoised per node: several rules ask. */
export function functionReferences(type: string, node: Fields): readonly FunctionReference[] {
  const known = memo.get(node)
  if (known !== undefined) return known
  const refs = collect(type, node)
  memo.set(node, refs)
  return refs
}

function collect(type: string, node: Fields): FunctionReference[] {
  const refs: FunctionReference[] = []
  switch (type) {
    case 'FuncCall': {
      const ref = reference(node.funcname, 'call')
      const args = Array.isArray(node.args) ? node.args.length : 0
      // `f(VARIADIC arr)` spreads an array: its count is not the arity.
      if (ref !== undefined) refs.push(node.func_variadic === true ? ref : { ...ref, args })
      break
    }
    case 'A_Expr': {
      const kind = String(node.kind ?? '')
      if (kind === 'AEXPR_OP' || kind === 'AEXPR_OP_ANY' || kind === 'AEXPR_OP_ALL') {
        const ref = reference(node.name, 'operator')
        if (ref !== undefined) refs.push({ ...ref, operator: true })
      }
      break
    }
    case 'DefineStmt': {
      const kind = String(node.kind ?? '')
      const options = DEFINE_OPTIONS[kind]
      if (options !== undefined) {
        const what = kind
          .replace(/^OBJECT_/, '')
          .replace('TS', 'TEXT SEARCH ')
          .replace('_', ' ')
        const found = fromOptions(
          node.definition,
          new Set(options),
          (o) => `CREATE ${what} ${nameOf(node.defnames)} (${o.toUpperCase()} = ...)`,
        )
        // An operator's FUNCTION takes exactly its LEFTARG and RIGHTARG.
        const exact = kind === 'OBJECT_OPERATOR' ? operatorTypes(node.definition) : undefined
        refs.push(
          ...found.map((r) =>
            exact !== undefined && (r.via.endsWith('(FUNCTION = ...)') || r.via.endsWith('(PROCEDURE = ...)'))
              ? { ...r, exact }
              : r,
          ),
        )
      }
      break
    }
    case 'CreateCastStmt':
      push(refs, fromObject(unwrapBare(node.func), 'CREATE CAST ... WITH FUNCTION'))
      break
    case 'CreateTransformStmt':
      push(refs, fromObject(unwrapBare(node.fromsql), 'CREATE TRANSFORM (FROM SQL WITH FUNCTION)'))
      push(refs, fromObject(unwrapBare(node.tosql), 'CREATE TRANSFORM (TO SQL WITH FUNCTION)'))
      break
    case 'CreateConversionStmt':
      push(refs, reference(node.func_name, 'CREATE CONVERSION ... FROM'))
      break
    case 'CreateOpClassStmt':
    case 'AlterOpFamilyStmt':
      for (const item of Array.isArray(node.items) ? node.items : []) {
        const w = unwrap(item)
        if (w?.[0] !== 'CreateOpClassItem' || w[1].itemtype !== 2) continue
        push(refs, fromObject(unwrapBare(w[1].name), 'an operator class FUNCTION'))
      }
      break
    case 'AlterOperatorStmt':
    case 'AlterTypeStmt':
      refs.push(...fromOptions(node.options, ALTER_OPTIONS, (o) => `ALTER ... SET (${o.toUpperCase()} = ...)`))
      break
    case 'CreateRangeStmt':
      refs.push(
        ...fromOptions(node.params, RANGE_OPTIONS, (o) => `CREATE TYPE ... AS RANGE (${o.toUpperCase()} = ...)`),
      )
      break
    case 'CreateFdwStmt':
    case 'AlterFdwStmt':
      refs.push(
        ...fromOptions(
          node.func_options,
          new Set(['handler', 'validator']),
          (o) => `FOREIGN DATA WRAPPER ${o.toUpperCase()}`,
        ),
      )
      break
    case 'CreatePLangStmt':
      push(refs, reference(node.plhandler, 'CREATE LANGUAGE ... HANDLER'))
      push(refs, reference(node.plinline, 'CREATE LANGUAGE ... INLINE'))
      push(refs, reference(node.plvalidator, 'CREATE LANGUAGE ... VALIDATOR'))
      break
    case 'CreateAmStmt':
      push(refs, reference(node.handler_name, 'CREATE ACCESS METHOD ... HANDLER'))
      break
    case 'CreateTrigStmt': {
      // A trigger function takes no declared arguments (its arguments arrive in TG_ARGV).
      const ref = reference(node.funcname, 'CREATE TRIGGER ... EXECUTE FUNCTION')
      if (ref !== undefined) refs.push({ ...ref, args: 0 })
      break
    }
    case 'CreateEventTrigStmt':
      push(refs, reference(node.funcname, 'CREATE EVENT TRIGGER ... EXECUTE FUNCTION'))
      break
  }
  return refs
}

/** A bare typed field (`CreateCastStmt.func` is an ObjectWithArgs without its wrapper). */
function unwrapBare(value: unknown): Fields | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const w = unwrap(value)
  return w !== undefined && w[0] === 'ObjectWithArgs' ? w[1] : (value as Fields)
}

/** Postgres's own operators (pg_catalog), by name. Any other operator runs someone's function. */
export const BUILTIN_OPERATORS: ReadonlySet<string> = new Set(
  `
! !! !~ !~* !~~ !~~* !=  # ## #- #> #>> % & && &< &<| &> * + - -> ->> -|- / < <-> << <<= <<| <= <> <@ <^ = > >= >>
>>= >^ ? ?# ?& ?- ?-| ?| ?|| @ @-@ @> @? @@ @@@ ^ | |&> |/ ||/ |>> || ~ ~* ~<=~ ~<~ ~= ~>=~ ~>~ ~~ ~~*
`
    .split(/\s+/)
    .filter((s) => s !== ''),
)

/** How a referenced function is judged. */
export type FunctionJudgement =
  | { readonly kind: 'dangerous'; readonly what: string }
  | { readonly kind: 'safe' }
  | { readonly kind: 'defined'; readonly tier: Tier }
  | { readonly kind: 'unknown' }

/**
 * Judges one reference: a dangerous built-in (whatever its schema: fail closed), a known
 * side-effect-free built-in (only unqualified or in pg_catalog: `public.lower()` is someone's code),
 * a function or operator defined earlier in the script (its body's tier), or unknown.
 */
export function judgeFunction(
  ref: FunctionReference,
  ctx: Pick<RuleContext, 'script' | 'knownFunctions'>,
): FunctionJudgement {
  if (ref.operator === true) {
    const defined = ctx.script.operators.get(ref.key)
    if (defined !== undefined) return { kind: 'defined', tier: defined }
    if ((ref.schema === undefined || ref.schema === 'pg_catalog') && BUILTIN_OPERATORS.has(ref.key))
      return { kind: 'safe' }
    return { kind: 'unknown' }
  }
  if (isDangerousFunction(ref.key, ref.schema)) return { kind: 'dangerous', what: dangerousWhat(ref.key, ref.schema) }
  const defined = definedFunctionTier(ctx.script, ref)
  if (defined !== undefined) return { kind: 'defined', tier: defined }
  if (knownSafe(ref, ctx.knownFunctions)) return { kind: 'safe' }
  return { kind: 'unknown' }
}

/** A side-effect-free built-in (unqualified or in pg_catalog), or a function the profile knows (`auth.uid`). */
function knownSafe(ref: FunctionReference, knownFunctions: ReadonlySet<string>): boolean {
  if ((ref.schema === undefined || ref.schema === 'pg_catalog') && SAFE_FUNCTIONS.has(ref.key)) return true
  return knownFunctions.has(ref.schema === undefined ? ref.key : `${ref.schema}.${ref.key}`)
}

/**
 * Where a definition is filed: its own name as the parser folds it (`"Purge"` stays `Purge`), the
 * schema it was qualified with (none for unqualified or `public`), its input argument types, and how
 * many arguments a call may pass (`max` -1: any number, VARIADIC).
 */
interface Signature {
  readonly own: string
  readonly schema: string
  readonly types: string
  readonly min: number
  readonly max: number
}

const SEP = '\u0000'

function schemaOf(names: readonly string[]): string {
  const schema = names.slice(0, -1).join('.')
  return schema === 'public' ? '' : schema
}

function fileKey(sig: Signature): string {
  return [sig.own, sig.schema, sig.types, sig.min, sig.max].join(SEP)
}

function readKey(key: string): Signature {
  const [own = '', schema = '', types = '', min = '0', max = '-1'] = key.split(SEP)
  return { own, schema, types, min: Number(min), max: Number(max) }
}

const INPUT_MODES: ReadonlySet<string> = new Set([
  'FUNC_PARAM_IN',
  'FUNC_PARAM_INOUT',
  'FUNC_PARAM_VARIADIC',
  'FUNC_PARAM_DEFAULT',
])

/**
 * The signature of a definition: `funcname` is the name list, `parameters` the CREATE FUNCTION
 * parameters (absent when there are none), or `'unknown'` (an aggregate: then any number of arguments).
 */
export function signatureOf(funcname: unknown, parameters: unknown): string {
  const names = (Array.isArray(funcname) ? funcname : []).map((n) => stringValue(n) ?? '')
  const own = names.at(-1) ?? ''
  if (parameters === 'unknown') return fileKey({ own, schema: schemaOf(names), types: '?', min: 0, max: -1 })
  let total = 0
  let defaults = 0
  let variadic = false
  const types: unknown[] = []
  for (const p of Array.isArray(parameters) ? parameters : []) {
    const w = unwrap(p)
    if (w?.[0] !== 'FunctionParameter') continue
    const mode = String(w[1].mode ?? 'FUNC_PARAM_DEFAULT')
    if (!INPUT_MODES.has(mode)) continue
    total++
    if (w[1].defexpr !== undefined) defaults++
    if (mode === 'FUNC_PARAM_VARIADIC') variadic = true
    types.push(w[1].argType)
  }
  return fileKey({
    own,
    schema: schemaOf(names),
    types: typesText(types),
    min: total - defaults,
    max: variadic ? -1 : total,
  })
}

function accepts(sig: Signature, args: number): boolean {
  return args >= sig.min && (sig.max === -1 || args <= sig.max)
}

/** The tier of one filed definition, a body that waited for callees judged again (see {@link definedFunctionTier}). */
function filedTier(script: ScriptState, key: string, seen: Set<string>): Tier | undefined {
  const tier = script.functions.get(key)
  if (tier === undefined) return undefined
  const deps = script.history.pendingCalls.get(key)
  if (deps === undefined || tier !== 'cautious') return tier
  if (seen.has(key)) return 'safe'
  seen.add(key)
  let out: Tier = 'safe'
  for (const ref of deps) {
    if (isDangerousFunction(ref.key, ref.schema)) return 'destructive'
    const inner = definedFunctionTier(script, ref, seen)
    if (inner !== undefined) out = maxTier(out, inner)
    else if (!knownSafe(ref, script.knownFunctions)) out = maxTier(out, 'cautious')
    if (out === 'destructive') break
  }
  seen.delete(key)
  return out
}

/**
 * The tier a call of a function defined earlier (in this script, or an earlier migration of the run)
 * gets, or undefined when the call is not shown to reach such a definition. A body that was
 * `cautious` only because it called functions nobody had defined yet (plpgsql resolves names when
 * it runs: `nanoid` calling `nanoid_optimized`, defined just below it) is judged again now, with
 * every definition made since: a callee defined safe makes the caller safe, a callee still unknown
 * keeps it `cautious`, a dangerous one makes it `destructive`. Cycles add nothing of their own.
 *
 * A call reaches a definition only by its name as the parser folds it (`"Purge"` is not `purge`), in
 * its schema (unqualified and `public` are one; `other.f` is not `f`), and among overloads: a
 * definition proves where a call goes only when it takes no arguments and the call passes none (no
 * other function of that name can take a call without arguments unambiguously), or, in a run read
 * from its first migration, when the history holds every overload of an unqualified or `public`
 * name. Otherwise a function already in the database (`purge(text)` beside the script's
 * `purge(int)`) may be the one called: unknown, unless a definition of that name is `destructive`.
 */
export function definedFunctionTier(
  script: ScriptState,
  ref: Pick<FunctionReference, 'name' | 'args' | 'exact'>,
  seen: Set<string> = new Set(),
): Tier | undefined {
  const names = ref.name.split('.')
  const own = names.at(-1) ?? ''
  const schema = schemaOf(names)
  let worst: Tier | undefined
  let proven: Tier | undefined
  let reached = false
  for (const key of script.functions.keys()) {
    const sig = readKey(key)
    if (sig.own !== own) continue
    const tier = filedTier(script, key, seen)
    if (tier === undefined) continue
    worst = worst === undefined ? tier : maxTier(worst, tier)
    const matches = ref.exact !== undefined ? sig.types === ref.exact : ref.args === undefined || accepts(sig, ref.args)
    if (!matches) continue
    proven = proven === undefined ? tier : maxTier(proven, tier)
    if (sig.schema !== schema) continue
    // After a search_path change an unqualified name may mean another schema's function.
    if (schema === '' && names.length === 1 && script.history.searchPathMoved) continue
    // Looked up by exact types; or no arguments for no parameters; or every overload known.
    if (ref.exact !== undefined || (ref.args === 0 && sig.max === 0) || (script.history.fromStart && schema === ''))
      reached = true
  }
  if (reached) return proven
  return worst === 'destructive' ? 'destructive' : undefined
}

/** The highest tier of any definition of a function's own name (the body a DROP then CREATE put in place). */
export function anyFunctionTier(script: ScriptState, name: string): Tier | undefined {
  const own = name.split('.').at(-1) ?? name
  let out: Tier | undefined
  for (const key of script.functions.keys()) {
    if (readKey(key).own !== own) continue
    const tier = filedTier(script, key, new Set())
    if (tier !== undefined) out = out === undefined ? tier : maxTier(out, tier)
  }
  return out
}

/**
 * Follows ALTER FUNCTION ... RENAME TO / SET SCHEMA: the definitions of `names` (its own name and
 * schema as written) are filed again under the new own name or schema. When none was known, the
 * function that now wears the new name is unknown code: a `cautious` entry that takes any call
 * stands for it, so no call of that name is proven to reach only safe bodies.
 */
export function moveFunction(
  script: Pick<ScriptState, 'functions' | 'history'>,
  names: readonly string[],
  to: { readonly own?: string; readonly schema?: string },
): void {
  const own = names.at(-1) ?? ''
  const schema = schemaOf(names)
  let moved = false
  for (const key of [...script.functions.keys()]) {
    const sig = readKey(key)
    // An unqualified name may have meant any schema's function: every one of that own name moves.
    if (sig.own !== own || (schema !== '' && sig.schema !== schema)) continue
    const tier = script.functions.get(key) as Tier
    const pending = script.history.pendingCalls.get(key)
    script.functions.delete(key)
    script.history.pendingCalls.delete(key)
    const next = fileKey({
      ...sig,
      own: to.own ?? sig.own,
      schema: to.schema === undefined ? sig.schema : schemaOf([to.schema, '']),
    })
    script.functions.set(next, tier)
    if (pending !== undefined) script.history.pendingCalls.set(next, pending)
    moved = true
  }
  if (!moved) {
    const next = fileKey({
      own: to.own ?? own,
      schema: to.schema === undefined ? schema : schemaOf([to.schema, '']),
      types: '?',
      min: 0,
      max: -1,
    })
    if (!script.functions.has(next)) script.functions.set(next, 'cautious')
  }
}

/** Forgets every definition of a function's own name (a DROP FUNCTION: later calls reach whatever else carries it). */
export function forgetFunction(script: Pick<ScriptState, 'functions' | 'history'>, own: string): void {
  for (const key of [...script.functions.keys()]) {
    if (readKey(key).own !== own) continue
    script.functions.delete(key)
    script.history.pendingCalls.delete(key)
  }
}

/**
 * Records a function defined by the script with its body's tier (`signature` from
 * {@link signatureOf}), and what its body called that was not defined yet when the body alone made
 * it `cautious` (so a later definition can answer for it).
 */
export function recordFunction(
  script: ScriptState,
  signature: string,
  tier: Tier,
  calls: { readonly refs: readonly FunctionReference[]; readonly other: Tier },
): void {
  script.functions.set(signature, tier)
  if (tier === 'cautious' && calls.other === 'safe' && calls.refs.length > 0) {
    script.history.pendingCalls.set(signature, [...calls.refs])
  } else script.history.pendingCalls.delete(signature)
}
