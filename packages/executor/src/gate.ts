import {
  type ClassifiedStatement,
  compareTiers,
  flagsAllow,
  type Plan,
  type RequiredFlag,
  requiredFlag,
  type Tier,
} from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import { displayStatement } from './display.js'
import { ParseError, type RefusedStatement, SafetyError, type SafetyReason } from './errors.js'
import { cannotUndo } from './undo/undo-coverage.js'

/** The flags a caller passes to let a tier run. */
export interface GateFlags {
  /** Lets `cautious` work run. */
  readonly confirm?: boolean
  /** Lets `destructive` (and `cautious`) work run. */
  readonly iKnowWhatImDoing?: boolean
}

/** Where the gate is asked: wording of advice differs. */
export type GateContext = 'execute' | 'transaction' | 'rehearse' | 'migration'

/** How flag names are written in messages: as API options or as CLI flags. */
export type FlagStyle = 'api' | 'cli'

/**
 * Refuses a plan with a statement the grammar rejected: `ParseError` with its line and column, and
 * the parser's message. Such SQL is never sent. Never throws.
 */
export function checkParsed(plan: Plan): Result<Plan, ParseError> {
  if (!plan.hasParseErrors) return ok(plan)
  const bad = plan.statements.filter((s) => s.parseError !== undefined || s.kind === 'Unparsed')
  const first = bad[0]
  if (first === undefined) return ok(plan)
  const line = first.parseError?.line ?? first.span.line
  const column = first.parseError?.column ?? first.span.column
  const parserMessage = first.parseError?.message ?? 'the statement could not be parsed'
  const statement = displayStatement(first.text)
  const more =
    bad.length > 1 ? `\n(${bad.length - 1} more statement${bad.length > 2 ? 's do' : ' does'} not parse.)` : ''
  return err(
    new ParseError(
      `Syntax error at line ${line}, column ${column}: ${parserMessage}\n  ${statement}${more}\n` +
        'Nothing was sent. Fix the SQL and run it again (ddl check shows every statement).',
      { line, column, parserMessage, statement },
    ),
  )
}

/**
 * Refuses transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ...): inside the engine's
 * transaction a COMMIT would end it early and run the rest outside it. Never throws.
 */
export function checkTransactionControl(plan: Plan, context: GateContext): Result<Plan, SafetyError> {
  const control = plan.statements.filter((s) => s.verdict.transactionControl !== null)
  const first = control[0]
  if (first === undefined) return ok(plan)
  const verb = first.verdict.transactionControl ?? 'transaction control'
  const group =
    context === 'migration'
      ? 'Each migration file already runs in one transaction.'
      : 'To group statements, pass them as one script or use transaction().'
  return err(
    refusal('transaction-control', plan, control, {
      headline: `Transaction control refused: ${verb} (line ${first.span.line}). Nothing was sent.`,
      body:
        'safe-ddl runs every script in its own transaction; a COMMIT, ROLLBACK or SAVEPOINT in the script ' +
        'would end it early or leave the rest of the script outside it.',
      hint: `Remove ${control.map((s) => s.verdict.transactionControl).join(', ')} from the script. ${group}`,
    }),
  )
}

/**
 * True for `COPY ... FROM STDIN`: the server waits for rows from the client, and the executor sends
 * none. node-pg answers with a CopyFail, but over the extended protocol the server stayed in COPY
 * mode and the next message (the ROLLBACK) hung the call and its connection for good, past every
 * timeout. Never throws.
 */
export function copiesFromClient(statement: ClassifiedStatement): boolean {
  if (statement.kind !== 'CopyStmt') return false
  const node = (statement.ast as Record<string, unknown> | undefined)?.CopyStmt as
    | { is_from?: unknown; filename?: unknown; is_program?: unknown }
    | undefined
  // Without the tree, fail closed on the text.
  if (node === undefined) return /\bfrom\s+stdin\b/i.test(statement.text)
  return node.is_from === true && node.filename === undefined && node.is_program !== true
}

/** Refuses `COPY ... FROM STDIN` (see {@link copiesFromClient}). Never throws. */
export function checkCopyFromClient(plan: Plan): Result<Plan, SafetyError> {
  const copies = plan.statements.filter(copiesFromClient)
  const first = copies[0]
  if (first === undefined) return ok(plan)
  return err(
    refusal('copy-from-client', plan, copies, {
      headline: `COPY ... FROM STDIN refused (line ${first.span.line}): safe-ddl sends SQL, not COPY data. Nothing was sent.`,
      body: 'The server would wait for rows from the client for ever, holding the connection.',
      hint: 'Load the rows with INSERT ... VALUES, or run COPY with psql outside safe-ddl.',
    }),
  )
}

/**
 * Refuses a statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY, VACUUM, ...) when
 * it does not stand alone: it runs alone, outside a transaction, or not at all. Never throws.
 */
export function checkNonTransactional(plan: Plan, context: GateContext): Result<Plan, SafetyError> {
  const outside = plan.statements.filter((s) => !s.verdict.transactional && s.verdict.transactionControl === null)
  const first = outside[0]
  if (first === undefined) return ok(plan)
  if (context === 'execute' && plan.statements.length === 1) return ok(plan)
  const what = displayStatement(first.text, 60)
  const headline =
    context === 'transaction'
      ? `Cannot run inside transaction(): ${what} (line ${first.span.line}) cannot run in a transaction block.`
      : `Cannot run ${what} (line ${first.span.line}) with other statements: it cannot run in a transaction block, ` +
        `and this script has ${plan.statements.length} statements.`
  const hint =
    context === 'transaction'
      ? 'Run it on its own with execute(), outside transaction().'
      : 'Run it on its own, as a separate execute (ddl exec) after the rest has committed; ' +
        'safe-ddl then runs it outside a transaction and says so.'
  return err(
    refusal('non-transactional', plan, outside, {
      headline: `${headline} Nothing was sent.`,
      body: 'Postgres refuses it inside a transaction, and running it between the others would break all-or-nothing.',
      hint,
    }),
  )
}

/**
 * The tiered gate: refuses a plan whose tier needs a flag the caller did not pass. `safe` needs
 * nothing, `cautious` needs `confirm`, `destructive` needs `iKnowWhatImDoing` (which also covers
 * `cautious`). The message says what is blocked, what could be lost, and which flag overrides it.
 * Never throws.
 *
 * @example
 * checkTier(plan, {}) // err(SafetyError: "Destructive operation blocked: DROP TABLE users ...")
 */
export function checkTier(plan: Plan, flags: GateFlags, style: FlagStyle = 'api'): Result<Plan, SafetyError> {
  if (flagsAllow(plan.tier, flags)) return ok(plan)
  const blocked = plan.statements.filter((s) => !flagsAllow(s.verdict.tier, flags))
  return err(refusal('tier', plan, blocked, { headline: '', body: '', hint: '' }, style))
}

/**
 * Everything the gate checks before `execute` sends a byte: parse errors, transaction control,
 * `COPY ... FROM STDIN`, non-transactional statements mixed with others, then the tier against the flags (skipped for a
 * rehearsal, which changes nothing). Never throws.
 */
export function gatePlan(
  plan: Plan,
  flags: GateFlags,
  context: GateContext,
  style: FlagStyle = 'api',
): Result<Plan, SafetyError | ParseError> {
  return checkParsed(plan)
    .andThen((p) => checkTransactionControl(p, context))
    .andThen(checkCopyFromClient)
    .andThen((p) => (context === 'rehearse' ? ok(p) : checkNonTransactional(p, context)))
    .andThen((p) => (context === 'rehearse' ? checkRehearsable(p, flags, style) : checkTier(p, flags, style)))
}

/**
 * A rehearsal always rolls back, so it needs no flag, except for statements whose effects a rollback
 * cannot undo (`verdict.rollbackSafe === false`: a killed session, a written server file, code that
 * cannot be read): those need the flag their tier needs, as if they ran for real. Never throws.
 */
export function checkRehearsable(plan: Plan, flags: GateFlags, style: FlagStyle = 'api'): Result<Plan, SafetyError> {
  const escaping = plan.statements.filter((s) => !s.verdict.rollbackSafe && !flagsAllow(s.verdict.tier, flags))
  if (escaping.length === 0) return ok(plan)
  const first = escaping[0] as ClassifiedStatement
  const refused = refusal('tier', plan, escaping, { headline: '', body: '', hint: '' }, style)
  return err(
    new SafetyError(
      `Rehearsal refused: ${displayStatement(first.text)} (line ${first.span.line}) may act outside the transaction, ` +
        'so rolling back would not undo it.\n' +
        refused.message,
      {
        reason: 'tier',
        tier: refused.tier,
        requires: refused.requires,
        statements: refused.statements,
        hint: refused.hint,
      },
    ),
  )
}

/** One refused statement as shown to a person. */
export function refusedStatement(statement: ClassifiedStatement): RefusedStatement {
  return {
    display: displayStatement(statement.text),
    line: statement.span.line,
    column: statement.span.column,
    kind: statement.kind,
    tier: statement.verdict.tier,
    findings: statement.verdict.findings,
  }
}

/**
 * Says before the run what undo cannot take back (DROP DATABASE, roles, ALTER SYSTEM, ...), on the
 * line before the override advice, so nobody learns it afterwards.
 */
function withUndoNote(message: string, statements: readonly ClassifiedStatement[]): string {
  const lines = cannotUndo(statements)
  if (lines.length === 0) return message
  const note = `Cannot be undone once committed (ddl undo keeps nothing for it):\n${lines.map((l) => `  ${l}`).join('\n')}`
  const cut = message.lastIndexOf('\n')
  return cut < 0 ? `${message}\n${note}` : `${message.slice(0, cut)}\n${note}${message.slice(cut)}`
}

function refusal(
  reason: SafetyReason,
  plan: Plan,
  statements: readonly ClassifiedStatement[],
  text: { headline: string; body: string; hint: string },
  style: FlagStyle = 'api',
): SafetyError {
  const refused = statements.map(refusedStatement)
  const requires: RequiredFlag = reason === 'tier' ? requiredFlag(plan.tier) : 'none'
  const fields = { reason, tier: plan.tier, requires, statements: refused, hint: text.hint }
  if (reason === 'tier') {
    const message = withUndoNote(formatTierRefusal(plan.tier, refused, style), statements)
    return new SafetyError(message, { ...fields, hint: overrideLine(plan.tier, style) })
  }
  return new SafetyError([text.headline, text.body, text.hint].filter((l) => l !== '').join('\n'), fields)
}

const TIER_WORD: Record<Tier, string> = { safe: 'Safe', cautious: 'Cautious', destructive: 'Destructive' }

/** The line that names the overriding flag, in API or CLI words. */
export function overrideLine(tier: Tier, style: FlagStyle): string {
  const flag =
    tier === 'destructive'
      ? style === 'api'
        ? 'iKnowWhatImDoing: true'
        : '--i-know-what-im-doing'
      : style === 'api'
        ? 'confirm: true'
        : '--confirm'
  return `Use ${flag} to override`
}

/**
 * The text of a tier refusal, in the words scripts match on:
 * `Destructive operation blocked: DROP TABLE users`, what could be lost (the findings), the
 * overriding flag, then the safer path (the rule hints). Never throws.
 */
export function formatTierRefusal(tier: Tier, refused: readonly RefusedStatement[], style: FlagStyle): string {
  const lines: string[] = []
  const single = refused.length === 1 ? refused[0] : undefined
  if (single !== undefined) {
    lines.push(`${TIER_WORD[tier]} operation blocked: ${single.display}`)
  } else {
    lines.push(`${TIER_WORD[tier]} operation blocked: ${refused.length} statements need a flag`)
  }
  const hints: string[] = []
  for (const statement of refused) {
    if (single === undefined) lines.push(`line ${statement.line}: ${statement.display}`)
    const raising = statement.findings.filter((f) => compareTiers(f.tier, 'safe') > 0)
    for (const finding of raising) {
      lines.push(single === undefined ? `  ${finding.message}` : finding.message)
      if (finding.hint !== '' && !hints.includes(finding.hint)) hints.push(finding.hint)
    }
  }
  if (tier === 'cautious') {
    lines.push(`This operation requires ${style === 'api' ? 'confirm: true' : '--confirm'}`)
  }
  lines.push(overrideLine(tier, style))
  for (const hint of hints) lines.push(`Hint: ${hint}`)
  return lines.join('\n')
}

/**
 * A `SafetyError`'s text with flags written for the given audience (`--i-know-what-im-doing` for the
 * CLI). Never throws.
 */
export function renderSafetyError(error: SafetyError, style: FlagStyle): string {
  if (style === 'api') return error.message
  return error.message
    .replace(/iKnowWhatImDoing: true/g, '--i-know-what-im-doing')
    .replace(/confirm: true/g, '--confirm')
    .replace(/execute \(ddl exec\)/g, 'ddl exec')
    .replace(/use execute\(\)/g, 'use ddl exec')
    .replace(/Use execute\(\)/g, 'Use ddl exec')
    .replace(/^query\(\) only reads/, 'ddl query only reads')
}
