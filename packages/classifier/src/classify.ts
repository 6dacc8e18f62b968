/**
 * classify(): cut a script into statements with the parser's own locations, classify each from its
 * parse tree, and fall back to tokens only for text the grammar rejects.
 */
import type { ParseResult } from '@pgsql/types'
import { err, ok, type Result } from 'neverthrow'
import { analyzeStatement } from './analyze.js'
import { type ClassifierError, InputError, NotInitializedError } from './errors.js'
import { fallbackVerdict } from './fallback.js'
import { anyFunctionTier } from './function-refs.js'
import { finishScript, learnStatement, type MigrationHistory, newScriptState } from './history.js'
import { exceedsNesting, splitStatements } from './lexer.js'
import { loadParser, parseRaw, parserReady, parserRecovering } from './parser.js'
import type { ClassifyOptions } from './policy.js'
import type { ScriptState } from './rule.js'
import { applyScriptContext } from './script-context.js'
import { maxTier, requiredFlag, type Tier } from './tier.js'
import type { ClassifiedStatement, Finding, Plan, StatementParseError, Verdict } from './types.js'
import { type Fields, unwrap } from './walk.js'

/** The largest script classify() accepts, in UTF-16 code units (64 Mi). */
export const MAX_INPUT_LENGTH = 64 * 1024 * 1024
/** Scripts up to this length are parsed in one call; longer ones in chunks of about this size. */
const WHOLE_PARSE_LENGTH = 1024 * 1024
const CHUNK_LENGTH = 256 * 1024
/** Bracket depth and operator count above which a piece is not given to the parser (its C stack). */
const MAX_BRACKET_DEPTH = 1000
const MAX_OPERATORS = 4000
/** The oldest Postgres major version still supported upstream (14 until November 2026). */
export const DEFAULT_PG_VERSION = 14

/**
 * Loads the Postgres parser (WebAssembly). Call once before {@link classify}; later calls return at once.
 *
 * @example
 * await init()
 * const plan = classify('DROP TABLE users')
 * if (plan.isErr()) throw plan.error
 * console.log(plan.value.tier) // 'destructive'
 */
export async function init(): Promise<void> {
  await loadParser()
}

/** Receives each statement as it is cut, so a long script's trees can be dropped chunk by chunk. */
type Emit = (cut: Cut) => void

interface Cut {
  readonly start: number
  readonly end: number
  readonly node?: readonly [string, Fields]
  readonly parseError?: { readonly message: string; readonly offset: number }
}

/** Maps UTF-8 byte offsets of `text` to UTF-16 offsets; calls must come in non-decreasing order. */
function byteMapper(text: string): (byte: number) => number {
  let ascii = true
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false
      break
    }
  }
  if (ascii) return (byte) => byte
  let bytePos = 0
  let charPos = 0
  return (byte) => {
    if (byte < bytePos) {
      bytePos = 0
      charPos = 0
    }
    while (bytePos < byte && charPos < text.length) {
      const c = text.charCodeAt(charPos)
      if (c < 0x80) bytePos += 1
      else if (c < 0x800) bytePos += 2
      else if (c >= 0xd800 && c <= 0xdbff) {
        bytePos += 4
        charPos++
      } else bytePos += 3
      charPos++
    }
    return charPos
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11
}

/** Statements of a parse tree of `text`, which starts at `base` in the script. */
function cutsFromTree(text: string, tree: ParseResult, base: number, out: Emit): void {
  const toChar = byteMapper(text)
  for (const raw of tree.stmts ?? []) {
    const location = raw.stmt_location ?? 0
    let start = toChar(location)
    let end = raw.stmt_len !== undefined && raw.stmt_len > 0 ? toChar(location + raw.stmt_len) : text.length
    while (start < end && isSpace(text.charCodeAt(start))) start++
    while (end > start && isSpace(text.charCodeAt(end - 1))) end--
    const node = unwrap(raw.stmt)
    if (node === undefined) continue
    out({ start: base + start, end: base + end, node })
  }
}

/**
 * Guard against inputs that exhaust the parser's C stack (measured: 6,000 nested brackets or chained
 * operators still parse; 10,000 trap), counted on tokens per `;`-separated statement, so strings and
 * comments never count (see {@link exceedsNesting}). A deep shape it misses makes the parser fail:
 * that is a fail-closed verdict too, and the instance is replaced.
 */
function tooDeep(text: string): boolean {
  // Each token takes at least one character and each level at least one bracket character: text
  // no longer than the chain limit, with no more brackets than the depth limit, cannot exceed either,
  // and is not tokenized (most migration files).
  if (text.length <= MAX_OPERATORS) {
    let brackets = 0
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i)
      if (c === 40 || c === 91) brackets++
    }
    if (brackets <= MAX_BRACKET_DEPTH) return false
  }
  return exceedsNesting(text, MAX_BRACKET_DEPTH, MAX_OPERATORS)
}

/**
 * Parses one piece. `nestingChecked`: the text around it passed {@link tooDeep}, which counts per
 * `;`-separated statement on the same tokens, so the piece (a run of whole tokens between `;` tokens)
 * passes too and is not tokenized again.
 */
function parsePiece(sql: string, start: number, end: number, out: Emit, nestingChecked = false): void {
  const text = sql.slice(start, end)
  if (!nestingChecked && tooDeep(text)) {
    out({
      start,
      end,
      parseError: { message: 'statement nested too deeply for the parser; not parsed', offset: start },
    })
    return
  }
  const parsed = parseRaw(text)
  if (parsed.ok) {
    cutsFromTree(text, parsed.tree, start, out)
    return
  }
  const cursor = parsed.cursor === undefined ? 0 : byteMapper(text)(parsed.cursor)
  out({ start, end, parseError: { message: parsed.message, offset: start + cursor } })
}

/** Cuts a script: one parse when it is accepted, piece by piece where it is not. */
function cutScript(sql: string, out: Emit): void {
  if (sql.length <= WHOLE_PARSE_LENGTH && !tooDeep(sql)) {
    const whole = parseRaw(sql)
    if (whole.ok) {
      cutsFromTree(sql, whole.tree, 0, out)
      return
    }
    const pieces = splitStatements(sql)
    const only = pieces.length === 1 ? pieces[0] : undefined
    if (whole.crashed && only !== undefined) {
      // The parser crashed on this very statement: parsing it again would only crash the spare too.
      out({ start: only.start, end: only.end, parseError: { message: whole.message, offset: only.start } })
      return
    }
    for (const piece of pieces) parsePiece(sql, piece.start, piece.end, out, true)
    return
  }
  // Long scripts: parse chunks of whole statements; a rejected chunk is parsed piece by piece.
  const pieces = splitStatements(sql)
  let i = 0
  while (i < pieces.length) {
    const first = pieces[i] as (typeof pieces)[number]
    let j = i
    while (j + 1 < pieces.length && (pieces[j + 1]?.end ?? 0) - first.start <= CHUNK_LENGTH) j++
    const last = pieces[j] as (typeof pieces)[number]
    const text = sql.slice(first.start, last.end)
    const parsed = tooDeep(text) ? undefined : parseRaw(text)
    if (parsed?.ok === true) cutsFromTree(text, parsed.tree, first.start, out)
    else {
      const checked = parsed !== undefined
      for (let k = i; k <= j; k++) parsePiece(sql, pieces[k]?.start ?? 0, pieces[k]?.end ?? 0, out, checked)
    }
    i = j + 1
  }
}

/** Line starts of `sql`, for 1-based line and column. */
function lineIndex(sql: string): (offset: number) => { line: number; column: number } {
  const starts = [0]
  for (let i = sql.indexOf('\n'); i !== -1; i = sql.indexOf('\n', i + 1)) starts.push(i + 1)
  return (offset) => {
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if ((starts[mid] as number) <= offset) lo = mid
      else hi = mid - 1
    }
    return { line: lo + 1, column: offset - (starts[lo] as number) + 1 }
  }
}

function unparsedVerdict(text: string): Verdict {
  const { tier, findings } = fallbackVerdict(text)
  return {
    tier,
    findings,
    targets: [],
    transactional: true,
    transactionControl: null,
    lock: null,
    rewrite: false,
    scan: false,
    rollbackSafe: false,
  }
}

function checkInput(sql: unknown): Result<string, ClassifierError> {
  if (typeof sql !== 'string') return err(new InputError('SQL must be a string.'))
  if (sql.length > MAX_INPUT_LENGTH) {
    return err(
      new InputError(
        `The script is ${sql.length} characters long; classify() accepts at most ${MAX_INPUT_LENGTH}. Split it into smaller files.`,
      ),
    )
  }
  const nul = sql.indexOf('\u0000')
  if (nul !== -1) {
    return err(
      new InputError(
        `The SQL contains a NUL byte at offset ${nul}; Postgres cannot receive it and the parser would stop there. Remove it.`,
        nul,
      ),
    )
  }
  if (!sql.isWellFormed()) {
    return err(
      new InputError('The SQL contains an unpaired UTF-16 surrogate (invalid Unicode). Fix the text encoding.'),
    )
  }
  return ok(sql)
}

interface Engine {
  readonly options: ClassifyOptions
  readonly pgVersion: number
  readonly knownFunctions: ReadonlySet<string>
}

const NO_FUNCTIONS: ReadonlySet<string> = new Set()

function classifyCuts(
  sql: string,
  state: ScriptState,
  engine: Engine,
  depth: number,
  each: (cut: Cut, text: string, verdict: Verdict) => void,
): void {
  const analyzeOptions = {
    policy: engine.options.policy,
    pgVersion: engine.pgVersion,
    knownFunctions: engine.knownFunctions,
    protectedTables: engine.options.protectedTables,
    policyHash: engine.options.policyHash,
    classifyNested: (inner: string, innerState: ScriptState, innerDepth: number) =>
      nested(inner, innerState, engine, innerDepth),
  }
  cutScript(sql, (cut) => {
    const text = sql.slice(cut.start, cut.end)
    const verdict =
      cut.node === undefined
        ? unparsedVerdict(text)
        : analyzeStatement(cut.node[0], cut.node[1], text, state, analyzeOptions, depth)
    each(cut, text, verdict)
  })
}

function nested(sql: string, state: ScriptState, engine: Engine, depth: number): { tier: Tier; findings: Finding[] } {
  let tier: Tier = 'safe'
  const findings: Finding[] = []
  if (checkInput(sql).isErr()) {
    const fb = fallbackVerdict(sql.replaceAll('\u0000', ' '))
    return { tier: maxTier(fb.tier, 'cautious'), findings: [...fb.findings] }
  }
  classifyCuts(sql, state, engine, depth, (_cut, _text, verdict) => {
    tier = maxTier(tier, verdict.tier)
    findings.push(...verdict.findings)
  })
  return { tier, findings }
}

/**
 * Classifies a script: every statement with its exact text, position, kind, parse tree and
 * {@link Verdict}; the script's tier (the highest) and the flag it needs. Pure and synchronous.
 * Text the grammar rejects is classified from tokens and is never `safe`.
 *
 * Fails with `NotInitializedError` briefly, while a parser instance that crashed with no spare left
 * is replaced (try again, or `await init()`), and `InputError` for input Postgres could not receive
 * (a NUL byte, invalid Unicode) or larger than {@link MAX_INPUT_LENGTH}.
 *
 * Throws `NotInitializedError` when called before {@link init} resolved: that is a bug in the
 * caller, not a state to handle, and an error value there was too easy to print and ignore.
 * It throws nothing else.
 *
 * @example
 * await init()
 * const plan = classify('ALTER TABLE users ADD COLUMN phone text; TRUNCATE sessions')
 * if (plan.isErr()) throw plan.error
 * console.log(plan.value.tier, plan.value.requires) // 'cautious' 'confirm'
 */
export function classify(sql: string, options: ClassifyOptions = {}): Result<Plan, ClassifierError> {
  if (!parserReady()) {
    // Never loaded: the caller forgot `await init()`. Thrown, so that a script cannot go on as if
    // its SQL had been checked.
    if (!parserRecovering()) throw new NotInitializedError()
    return err(
      new NotInitializedError(
        'The parser crashed on earlier input and is being reloaded; nothing was classified. ' +
          'Try again in a moment (`await init()` waits for it).',
      ),
    )
  }
  const input = checkInput(sql)
  if (input.isErr()) return err(input.error)
  const position = lineIndex(sql)
  const state: ScriptState = newScriptState(options)
  if (options.lockTimeoutSet === true) state.hazards.lockTimeout = true
  const engine: Engine = {
    options,
    pgVersion: options.pgVersion ?? DEFAULT_PG_VERSION,
    knownFunctions:
      options.knownFunctions === undefined
        ? NO_FUNCTIONS
        : new Set([...options.knownFunctions].map((name) => name.toLowerCase())),
  }
  const statements: ClassifiedStatement[] = []
  let tier: Tier = 'safe'
  let hasParseErrors = false
  const keepAst = options.keepAst !== false
  const nodes: (readonly [string, Fields] | undefined)[] = []
  classifyCuts(sql, state, engine, 0, (cut, text, verdict) => {
    nodes.push(cut.node)
    const { line, column } = position(cut.start)
    let parseError: StatementParseError | undefined
    if (cut.parseError !== undefined) {
      hasParseErrors = true
      const at = position(cut.parseError.offset)
      parseError = { message: cut.parseError.message, line: at.line, column: at.column }
    }
    tier = maxTier(tier, verdict.tier)
    if (cut.node !== undefined) learnStatement(state, cut.node[0], cut.node[1], statements.length)
    statements.push({
      text,
      span: { offset: cut.start, length: cut.end - cut.start, line, column },
      kind: cut.node?.[0] ?? 'Unparsed',
      ast:
        cut.node === undefined || !keepAst
          ? undefined
          : ({ [cut.node[0]]: cut.node[1] } as unknown as ClassifiedStatement['ast']),
      ...(parseError === undefined ? {} : { parseError }),
      verdict,
    })
  })
  // A drop that the script re-creates, or of what the script itself created, loses nothing.
  if (statements.some((s) => s.kind === 'DropStmt' || s.kind === 'AlterTableStmt')) {
    applyScriptContext(
      statements,
      nodes,
      (name) => anyFunctionTier(state, name),
      state.droppedDefinitions,
      state.createdNew,
    )
    tier = statements.reduce<Tier>((t, s) => maxTier(t, s.verdict.tier), 'safe')
  }
  if (options.history === undefined) tier = finishScript(state, statements, options, tier)
  return ok({ statements, tier, requires: requiredFlag(tier), hasParseErrors })
}

/**
 * Records in `history` what `sql` defines, exactly as `classify(sql, { ...options, history })` would
 * (the same script number, statements, origins and function tiers), and returns no plan. The history
 * holds the tier of each function body, which only the rules decide, so this runs the classifier:
 * give it the same options as the run. `ddl check` uses it to split a migrations directory between
 * threads: each thread learns the files before its share, then classifies its share.
 *
 * Fails and leaves the history untouched where `classify` would (`InputError`, or
 * `NotInitializedError` while a crashed parser is replaced); throws `NotInitializedError` before
 * {@link init} resolved, as `classify` does.
 *
 * @example
 * await init()
 * const history = newMigrationHistory()
 * learnHistory('CREATE TABLE t (c varchar(100))', history)
 * const plan = classify('ALTER TABLE t ALTER c TYPE varchar(10)', { history }) // knows the old type
 */
export function learnHistory(
  sql: string,
  history: MigrationHistory,
  options: Omit<ClassifyOptions, 'history'> = {},
): Result<void, ClassifierError> {
  return classify(sql, { ...options, history, keepAst: false }).map(() => undefined)
}
