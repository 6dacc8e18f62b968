import type { ClassifiedStatement, Plan } from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import { safeCause } from './connection.js'
import { displayStatement } from './display.js'
import type { EffectWatch, WatchedCommit } from './effect-check.js'
import { ConnectionError, PostgresError, type PostgresPhase } from './errors.js'
import { PIN_READING_LOCAL, pinReadingCalls } from './reading-settings.js'
import type { StatementRun } from './results.js'
import type { Session } from './session.js'
import { type ErrorSite, isServerError, sendStatement, toRunError } from './statement-runner.js'

/** The limits a transaction runs under (`SET LOCAL`), and whether it may write. */
export interface TransactionSettings {
  /** `lock_timeout` in ms (0: none). */
  readonly lockTimeoutMs: number
  /** `statement_timeout` in ms (0: none). */
  readonly statementTimeoutMs: number
  /** `BEGIN READ ONLY`: the server refuses every write. */
  readonly readOnly?: boolean
}

/** How errors of a run are worded and where secrets must not show. */
export interface RunContext {
  /** Strings that must never appear in an error (the connection string, its password). */
  readonly secrets: readonly string[]
  /** Maps a non-server error (socket closed) to a `ConnectionError`. */
  readonly connectionError: (error: unknown) => ConnectionError
}

/** Errors a run on the server can end with. */
export type RunError = PostgresError | ConnectionError

/** Called around each statement (the rehearsal measures locks and storage here). */
export interface StatementObserver {
  before?(session: Session, statement: ClassifiedStatement, index: number): Promise<void>
  after?(session: Session, statement: ClassifiedStatement, index: number, run: StatementRun): Promise<void>
  /**
   * When it resolves to a result, the statement is not sent: that is what it did (undo keeps a dropped
   * table by moving it instead; see docs/undo.md). `undefined` sends the statement as written.
   */
  instead?(
    session: Session,
    statement: ClassifiedStatement,
    index: number,
  ): Promise<Pick<StatementRun, 'command' | 'rowCount'> | undefined>
}

function site(
  context: RunContext,
  phase: PostgresPhase,
  aftermath: ErrorSite['aftermath'],
  extra: { statement?: ClassifiedStatement; index?: number; lockTimeoutMs?: number } = {},
): ErrorSite {
  return {
    phase,
    aftermath,
    secrets: context.secrets,
    connectionError: context.connectionError,
    statement: extra.statement,
    index: extra.index,
    lockTimeoutMs: extra.lockTimeoutMs,
  }
}

/**
 * Sets `lock_timeout` and `statement_timeout` for the transaction (`local`) or the session, and pins
 * how the server reads SQL (reading-settings.ts).
 */
async function applyLimits(session: Session, settings: TransactionSettings, local: boolean): Promise<void> {
  await session.client.query({
    text: `SELECT set_config($1, $2, $5), set_config($3, $4, $5), ${pinReadingCalls(local)}`,
    values: [
      'lock_timeout',
      `${Math.trunc(settings.lockTimeoutMs)}ms`,
      'statement_timeout',
      `${Math.trunc(settings.statementTimeoutMs)}ms`,
      local,
    ],
  })
}

/**
 * A timeout as a quoted `SET` value, as `applyLimits` passes it to `set_config`. `String(number)` is
 * only digits, `-`, `.`, `e`, `+`, `NaN` or `Infinity`: never a quote, so nothing can break out (a
 * value the server refuses is a server error, as before).
 */
function millis(ms: number): string {
  return `'${Math.trunc(Number(ms))}ms'`
}

/**
 * `BEGIN [READ ONLY]`, the transaction's `SET LOCAL` timeouts and the reading pins in one
 * simple-protocol query (one round trip). Built here from numbers and constants only; user
 * statements never go through this path.
 */
function beginWithLimits(settings: TransactionSettings): string {
  return (
    `${settings.readOnly === true ? 'BEGIN READ ONLY' : 'BEGIN'}; ` +
    `SET LOCAL lock_timeout = ${millis(settings.lockTimeoutMs)}; ` +
    `SET LOCAL statement_timeout = ${millis(settings.statementTimeoutMs)}; ` +
    PIN_READING_LOCAL
  )
}

/**
 * Runs `work` inside one transaction on one session: `BEGIN [READ ONLY]; SET LOCAL lock_timeout ...;
 * SET LOCAL statement_timeout ...` (one round trip), `work`, then `COMMIT` (or `ROLLBACK`
 * when `end` is `rollback`). Any `Err` from `work`, or a throw, rolls back. A COMMIT that the server
 * turns into a rollback is an error. The session is marked broken when its state is unknown; the
 * caller releases it (see `releaseSession`). Resolves to a `Result`; rethrows only what `work` throws,
 * after the rollback.
 */
export async function inTransaction<T, E>(
  session: Session,
  settings: TransactionSettings,
  context: RunContext,
  work: () => Promise<Result<T, E>>,
  end: 'commit' | 'rollback' = 'commit',
  watch?: EffectWatch<E>,
  opening?: () => PromiseLike<Result<unknown, E>>,
): Promise<Result<T, E | RunError>> {
  const aftermath = settings.readOnly === true ? 'read-only' : 'rolled-back'
  // Sent now (node-postgres writes it to the socket at once); read below.
  const begin = session.client.query(
    watch === undefined ? beginWithLimits(settings) : `${beginWithLimits(settings)}; ${watch.snapshotSql}`,
  )
  begin.catch(() => undefined) // read below; no unhandled rejection while `opening` runs
  if (opening !== undefined) {
    // The opening round trip changes nothing (BEGIN, SET LOCAL, catalog reads): it may be in flight
    // while `opening` (the audit intent's fsync) runs. No statement is sent before `opening` is Ok.
    let opened: Result<unknown, E>
    try {
      opened = await opening()
    } catch (error) {
      await settle(session, begin)
      throw error
    }
    if (opened.isErr()) {
      await settle(session, begin)
      return err(opened.error)
    }
  }
  try {
    const begun = await begin
    watch?.begun(begun as unknown as { rows: Record<string, unknown>[] }[])
  } catch (error) {
    if (!isServerError(error)) {
      session.broken = true
      return err(toRunError(error, site(context, 'begin', 'none')))
    }
    // A server error here is a refused setting after BEGIN: the transaction is open and aborted.
    await rollback(session)
    return err(toRunError(error, site(context, 'settings', aftermath)))
  }
  let result: Result<T, E>
  try {
    result = await work()
  } catch (error) {
    await rollback(session)
    throw error
  }
  if (result.isOk() && end === 'commit' && watch?.commitIfClean !== undefined) {
    // The effect check and COMMIT in one round trip when the server finds nothing to judge.
    let fast: WatchedCommit<E>
    try {
      fast = await watch.commitIfClean(session)
    } catch (error) {
      if (!isServerError(error)) {
        // The message held COMMIT: whether it ran is unknown.
        session.broken = true
        return err(commitLost(error, context))
      }
      await rollback(session)
      return err(toRunError(error, site(context, 'inspect', aftermath)))
    }
    if (fast.kind === 'committed') return fast.command === 'ROLLBACK' ? err(rolledBackAtCommit()) : result
    if (fast.kind === 'commit-failed') {
      // The server rolled back; a ROLLBACK now only warns, and settles any doubt.
      await rollback(session)
      return err(toRunError(fast.error, site(context, 'commit', aftermath)))
    }
    if (fast.checked.isErr()) {
      await rollback(session)
      return err(fast.checked.error)
    }
  } else if (result.isOk() && watch !== undefined) {
    // The effect check (effect-check.ts): after the last statement, before COMMIT or the rehearsal's ROLLBACK.
    let checked: Result<void, E>
    try {
      checked = await watch.beforeEnd(session)
    } catch (error) {
      if (!isServerError(error)) session.broken = true
      await rollback(session)
      return err(toRunError(error, site(context, 'inspect', aftermath)))
    }
    if (checked.isErr()) {
      await rollback(session)
      return err(checked.error)
    }
  }
  if (result.isErr() || end === 'rollback') {
    await rollback(session)
    return result
  }
  try {
    const done = await session.client.query('COMMIT')
    if (done.command === 'ROLLBACK') return err(rolledBackAtCommit())
  } catch (error) {
    if (!isServerError(error)) {
      session.broken = true
      return err(commitLost(error, context))
    }
    await rollback(session)
    return err(toRunError(error, site(context, 'commit', aftermath)))
  }
  return result
}

function rolledBackAtCommit(): PostgresError {
  return new PostgresError(
    'Postgres error 25P02 at COMMIT: the server rolled the transaction back instead of committing it ' +
      '(an earlier statement failed). Nothing was changed.',
    { code: '25P02', serverMessage: 'transaction rolled back at COMMIT', phase: 'commit' },
  )
}

function commitLost(error: unknown, context: RunContext): ConnectionError {
  const lost = context.connectionError(error)
  return new ConnectionError(
    'The connection was lost during COMMIT: the changes may or may not have been committed. ' +
      'Check the database (ddl schema, ddl query) before running the script again.',
    { project: lost.project, variable: lost.variable, target: lost.target, code: lost.code },
    { cause: safeCause(error, context.secrets) },
  )
}

/**
 * Waits for the opening round trip after `opening` failed, then rolls it back (nothing ran in it).
 * A connection error marks the session broken. Never rejects.
 */
async function settle(session: Session, begin: Promise<unknown>): Promise<void> {
  try {
    await begin
  } catch (error) {
    if (!isServerError(error)) {
      session.broken = true
      return
    }
  }
  await rollback(session)
}

/** ROLLBACK; when even that fails, the connection is destroyed on release (the server then rolls back). */
export async function rollback(session: Session): Promise<void> {
  try {
    await session.client.query('ROLLBACK')
  } catch {
    session.broken = true
  }
}

/**
 * Sends statements one at a time, each alone and byte for byte its classified text, over the extended
 * protocol; stops at the first error (a `PostgresError` naming its line in the caller's SQL).
 */
export async function runStatements(
  session: Session,
  statements: readonly ClassifiedStatement[],
  context: RunContext,
  options: {
    readonly aftermath: ErrorSite['aftermath']
    readonly lockTimeoutMs?: number
    readonly observer?: StatementObserver
    /** 0-based index of the first statement in its script (for error reports). */
    readonly offset?: number
  },
): Promise<Result<StatementRun[], RunError>> {
  const runs: StatementRun[] = []
  const offset = options.offset ?? 0
  for (const [i, statement] of statements.entries()) {
    const index = offset + i
    const at = (phase: PostgresPhase) =>
      site(context, phase, options.aftermath, {
        statement,
        index,
        ...(options.lockTimeoutMs !== undefined ? { lockTimeoutMs: options.lockTimeoutMs } : {}),
      })
    try {
      await options.observer?.before?.(session, statement, index)
    } catch (error) {
      return err(toRunError(error, at('inspect')))
    }
    const started = performance.now()
    let replaced: Pick<StatementRun, 'command' | 'rowCount'> | undefined
    try {
      replaced = await options.observer?.instead?.(session, statement, index)
    } catch (error) {
      return err(toRunError(error, at('inspect')))
    }
    let run: StatementRun
    try {
      const result = replaced ?? (await sendStatement(session.client, statement.text))
      run = {
        index,
        line: statement.span.line,
        statement: displayStatement(statement.text),
        kind: statement.kind,
        tier: statement.verdict.tier,
        findings: statement.verdict.findings,
        command: result.command ?? null,
        rowCount: typeof result.rowCount === 'number' ? result.rowCount : null,
        rows: 'rows' in result && Array.isArray(result.rows) ? result.rows : [],
        durationMs: Math.round((performance.now() - started) * 10) / 10,
      }
    } catch (error) {
      if (!isServerError(error)) session.broken = true
      return err(toRunError(error, at('statement')))
    }
    runs.push(run)
    try {
      await options.observer?.after?.(session, statement, index, run)
    } catch (error) {
      return err(toRunError(error, at('inspect')))
    }
  }
  return ok(runs)
}

/** What {@link runPlan} did. */
export interface PlanRun {
  /** False when the single statement ran alone outside a transaction. */
  readonly inTransaction: boolean
  readonly statements: readonly StatementRun[]
}

/** Options of {@link runPlan}. */
export interface PlanRunOptions<E = never> {
  /** Limits inside the transaction. */
  readonly settings: TransactionSettings
  /** `statement_timeout` for a statement run alone outside a transaction. */
  readonly nonTransactionalStatementTimeoutMs: number
  /** `commit` (default) or `rollback` (a rehearsal). */
  readonly end?: 'commit' | 'rollback'
  readonly observer?: StatementObserver
  /**
   * Runs inside the transaction after the last statement, before COMMIT; an `Err` rolls everything
   * back. The migrations engine records the applied migration here, in the same transaction.
   */
  readonly beforeCommit?: (session: Session) => Promise<Result<void, E>>
  /** The effect check of the transaction (see effect-check.ts); not applied to a statement run alone. */
  readonly watch?: EffectWatch<E>
  /**
   * Runs while the opening round trip (BEGIN and the limits, or the session limits of a statement run
   * alone) is in flight: the audit intent. No statement is sent before it resolves `Ok`; an `Err`
   * rolls back and is returned.
   */
  readonly opening?: () => PromiseLike<Result<unknown, E>>
}

/**
 * Runs a gated plan on one session. Usually: one transaction, every statement in it, COMMIT; any
 * error rolls back all of them. A plan of exactly one statement that Postgres cannot run in a
 * transaction (`verdict.transactional === false`) runs alone, outside one, under session-level
 * timeouts (the session is reset before reuse), and the result says `inTransaction: false`.
 * The plan must have passed the gate. Never throws.
 *
 * @example
 * const run = await runPlan(session, plan, context, { settings, nonTransactionalStatementTimeoutMs: 0 })
 */
export async function runPlan<E = never>(
  session: Session,
  plan: Plan,
  context: RunContext,
  options: PlanRunOptions<E>,
): Promise<Result<PlanRun, RunError | E>> {
  const only = plan.statements.length === 1 ? plan.statements[0] : undefined
  if (only !== undefined && !only.verdict.transactional) {
    session.dirty = true
    const limits = applyLimits(
      session,
      { ...options.settings, statementTimeoutMs: options.nonTransactionalStatementTimeoutMs },
      false,
    )
    limits.catch(() => undefined) // read below; no unhandled rejection while `opening` runs
    if (options.opening !== undefined) {
      let opened: Result<unknown, E>
      try {
        opened = await options.opening()
      } catch (error) {
        await limits.catch(() => undefined)
        throw error
      }
      if (opened.isErr()) {
        await limits.catch(() => undefined)
        return err(opened.error)
      }
    }
    try {
      await limits
    } catch (error) {
      return err(toRunError(error, site(context, 'settings', 'none')))
    }
    const runs = await runStatements(session, plan.statements, context, {
      aftermath: 'alone',
      lockTimeoutMs: options.settings.lockTimeoutMs,
      ...(options.observer !== undefined ? { observer: options.observer } : {}),
    })
    return runs.map((statements) => ({ inTransaction: false, statements }))
  }
  // A script may have changed session state (SET, set_config, temporary tables), and some of it
  // survives even a rollback (PREPARE, session advisory locks, WITH HOLD cursors): reset it always.
  session.dirty = true
  return inTransaction<PlanRun, RunError | E>(
    session,
    options.settings,
    context,
    async () => {
      const runs = await runStatements(session, plan.statements, context, {
        aftermath: options.settings.readOnly === true ? 'read-only' : 'rolled-back',
        lockTimeoutMs: options.settings.lockTimeoutMs,
        ...(options.observer !== undefined ? { observer: options.observer } : {}),
      })
      if (runs.isErr()) return err(runs.error)
      if (options.beforeCommit !== undefined) {
        const hook = await options.beforeCommit(session)
        if (hook.isErr()) return err(hook.error)
      }
      return ok({ inTransaction: true, statements: runs.value })
    },
    options.end ?? 'commit',
    options.watch,
    options.opening,
  )
}
