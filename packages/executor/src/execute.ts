import type { AuditError, AuditFlags, AuditOutcome } from '@ddl/audit'
import type { Plan, Tier } from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import {
  type AuditedStatement,
  type AuditScope,
  auditFlags,
  auditIds,
  type OutcomeDetails,
  recordAll,
} from './audit-trail.js'
import { classifySql } from './classify-sql.js'
import { maxRowsProblem } from './config.js'
import type { Connector } from './connection.js'
import { dryRun } from './dry-run.js'
import {
  allowedTier,
  commitCheck,
  effectTier,
  expectsEffects,
  type MeasuredEffects,
  NO_EFFECTS,
  truncatedNames,
} from './effect-check.js'
import { type ConnectionError, type ExecutorError, InputError, type SafetyError } from './errors.js'
import { type ExecutorContext, runContextOf } from './executor-context.js'
import { type GateFlags, gatePlan } from './gate.js'
import { type RunError, runPlan } from './plan-runner.js'
import { notUndoneBy, rehearsalMessage, rehearsePlan } from './rehearsal.js'
import type { ExecuteOutcome, ExecuteResult, RehearsalResult, StatementRun } from './results.js'
import { openSession, releaseSession, type Session } from './session.js'
import { toRunError } from './statement-runner.js'
import type { UndoSummary } from './undo/undo-items.js'
import { keeperFor, type UndoFlags, undoAuditLink } from './undo/undo-run.js'

/** Options of `execute()`. */
export interface ExecuteOptions extends GateFlags, UndoFlags {
  /** Classify and report only: nothing is sent, no database is needed. */
  readonly dryRun?: boolean
  /** Run in a transaction that is always rolled back, and report what it did (no flag needed). */
  readonly rehearse?: boolean
  /** Where the SQL came from (a file), recorded in the audit log. */
  readonly source?: string
  /**
   * The effect check's row limit for this call: deleting or updating more rows than this (triggers
   * and cascades included) rolls back with `SafetyError` `effect-exceeds-max-rows`. Default: the
   * context's (`maxRows` option or configuration).
   */
  readonly maxRows?: number
  /**
   * What a rehearsal measured (`RehearsalResult.effects`): the run may not do more (more rows deleted
   * or updated in a table, a table emptied or dropped that the rehearsal did not) or it rolls back
   * with `SafetyError` `effect-exceeds-rehearsal`. An approved run passes its rehearsal's.
   */
  readonly expectedEffects?: MeasuredEffects
}

const TIER_NAME: Record<Tier, string> = { safe: 'SAFE', cautious: 'CAUTIOUS', destructive: 'DESTRUCTIVE' }

/**
 * Checks out one session, runs `work` on it, and always gives it back (destroyed if broken).
 * Fails with `ConnectionError` when no connection could be made. Never throws.
 */
export async function withSession<T, E>(
  connector: Connector,
  work: (session: Session) => Promise<Result<T, E>>,
): Promise<Result<T, E | ConnectionError>> {
  const client = await connector.connect()
  if (client.isErr()) return err(client.error)
  const session = openSession(client.value)
  try {
    return await work(session)
  } finally {
    await releaseSession(session)
  }
}

/**
 * Like {@link withSession}, then `after(result)` (the audit outcome) while the session is given back:
 * the reset of a used connection (`DISCARD ALL`) and the audit write overlap instead of following
 * each other. The connection stays checked out until its release is done, and this resolves only
 * when both are, so no caller or later checkout can see the difference. Never throws unless `after`
 * does (after the release is done).
 */
export async function withSessionThen<T, E, A>(
  connector: Connector,
  work: (session: Session) => Promise<Result<T, E>>,
  after: (result: Result<T, E | ConnectionError>) => Promise<A>,
): Promise<{ readonly result: Result<T, E | ConnectionError>; readonly after: A }> {
  const client = await connector.connect()
  if (client.isErr()) {
    const result = err(client.error)
    return { result, after: await after(result) }
  }
  const session = openSession(client.value)
  let result: Result<T, E>
  try {
    result = await work(session)
  } catch (error) {
    await releaseSession(session)
    throw error
  }
  const released = releaseSession(session)
  try {
    return { result, after: await after(result) }
  } finally {
    await released
  }
}

/** The audit scope of one call: the context's, with this call's source. */
export function scopeOf(ctx: ExecutorContext, source: string | undefined): AuditScope {
  return source === undefined ? ctx.audit : { ...ctx.audit, source }
}

/** The first line of an error, for the audit log (which redacts it again). */
export function auditError(error: Error): string {
  return (error.message.split('\n')[0] ?? error.message).slice(0, 500)
}

/**
 * Records what happened to each statement after a run: `success` for those that ran, `failed` for the
 * one that failed, `rolled_back` for the others (ran then undone, or never sent). Returns a warning
 * when the outcome could not be written (the work itself is done).
 */
export async function recordOutcomes(
  scope: AuditScope,
  items: readonly AuditedStatement[],
  flags: AuditFlags,
  result: Result<readonly StatementRun[], RunError | ExecutorError>,
  success: AuditOutcome,
  extra: (index: number) => OutcomeDetails = () => ({}),
  flush: 'now' | 'with-next' = 'now',
): Promise<string[]> {
  const runs = result.isOk() ? result.value : []
  const failedIndex = result.isErr() && 'statementIndex' in result.error ? result.error.statementIndex : undefined
  const recorded = await recordAll(
    scope,
    items,
    flags,
    (_item, index) => {
      if (result.isOk()) return success
      if (failedIndex === undefined || index === failedIndex) return 'failed'
      return 'rolled_back'
    },
    (_item, index): OutcomeDetails => {
      const run = runs.find((r) => r.index === index)
      if (result.isOk())
        return { rowsAffected: run?.rowCount ?? undefined, durationMs: run?.durationMs, ...extra(index) }
      const error = result.error
      if (failedIndex === undefined || index === failedIndex) {
        return {
          sqlstate: 'code' in error && typeof error.code === 'string' ? error.code : undefined,
          error: auditError(error),
        }
      }
      return {
        error: index < failedIndex ? 'rolled back: a later statement failed' : 'not sent: an earlier statement failed',
      }
    },
    flush,
  )
  return recorded.isErr() ? [`The audit outcome could not be written: ${recorded.error.message}`] : []
}

/**
 * `execute()`: classify, gate, audit intent (fsynced, one batch), run in one transaction under
 * `SET LOCAL` timeouts, COMMIT, audit outcome. Or a dry run (no database) or a rehearsal (always
 * rolled back). Never throws.
 */
export async function executeSql(
  ctx: ExecutorContext,
  sql: string,
  options: ExecuteOptions = {},
): Promise<Result<ExecuteOutcome, ExecutorError>> {
  if (options.maxRows !== undefined) {
    const problem = maxRowsProblem(options.maxRows)
    if (problem !== undefined) return err(new InputError(problem, { problem: 'options' }))
  }
  if (options.dryRun === true && options.rehearse === true) {
    return err(
      new InputError(
        'dryRun and rehearse exclude each other: a dry run sends nothing, a rehearsal runs and rolls back.',
        {
          problem: 'options',
        },
      ),
    )
  }
  const classified = await classifySql(sql, ctx.classifyOptions, options.source)
  if (classified.isErr()) return err(classified.error)
  const plan = classified.value
  const flags = auditFlags(options)
  const scope = scopeOf(ctx, options.source)
  const items = auditIds(plan.statements)

  const notes = policyNotes(ctx, plan)

  if (options.dryRun === true) {
    const result = dryRun(plan, options, ctx.project, ctx.flagStyle)
    const recorded = await recordAll(scope, items, flags, 'dry_run')
    if (recorded.isErr()) return err(recorded.error)
    return ok({ ...result, warnings: [...notes, ...result.warnings] })
  }

  const gate = gatePlan(plan, options, options.rehearse === true ? 'rehearse' : 'execute', ctx.flagStyle)
  if (gate.isErr()) {
    // A refusal is recorded; if even that fails, the refusal is still what the caller must see.
    await recordAll(scope, items, flags, 'blocked', () => ({ error: auditError(gate.error) }))
    return err(gate.error)
  }

  const connector = ctx.connector()
  if (connector.isErr()) return err(connector.error)

  // Write-ahead: no statement is sent unless every intent of the plan is on disk.
  const recordIntents = () =>
    recordAll(scope, items, flags, 'intent', () => (options.noUndo === true ? { undo: 'given-up' } : {}))

  if (options.rehearse === true) {
    const intents = await recordIntents()
    if (intents.isErr()) return err(intents.error)
    const rehearsed = await rehearse(ctx, connector.value, plan, scope, items, flags)
    return rehearsed.map((r) => ({ ...r, warnings: [...notes, ...r.warnings] }))
  }

  // The intents are written while the opening round trip (BEGIN, the limits, the effect baseline,
  // none of which changes anything) is in flight; the statements wait for them (plan-runner.ts).
  let intent: 'pending' | 'written' | 'failed' = 'pending'
  const opening = async (): Promise<Result<unknown, AuditError>> => {
    const written = await recordIntents()
    intent = written.isOk() ? 'written' : 'failed'
    return written
  }

  const started = performance.now()
  let effects: MeasuredEffects | undefined
  const watch = commitCheck(
    () => ({
      allowed: allowedTier(options),
      maxRows: options.maxRows ?? ctx.effects.maxRows,
      expected: options.expectedEffects,
      allowEffects: ctx.effects.allowEffects,
      style: ctx.flagStyle,
    }),
    () => truncatedNames(plan),
    (measured) => {
      effects = measured
    },
    () => !expectsEffects(plan.statements),
  )
  const keeper = keeperFor(ctx, options, plan, ctx.flagStyle === 'cli' ? '--no-undo' : 'noUndo: true')
  const runContext = runContextOf(connector.value)
  let undo: UndoSummary | undefined
  const { result: run, after: warnings } = await withSessionThen(
    connector.value,
    (session) =>
      runPlan<RunError | SafetyError | AuditError>(session, plan, runContext, {
        settings: { lockTimeoutMs: ctx.timeouts.lockTimeoutMs, statementTimeoutMs: ctx.timeouts.statementTimeoutMs },
        nonTransactionalStatementTimeoutMs: ctx.timeouts.nonTransactionalStatementTimeoutMs,
        watch,
        opening,
        ...(keeper !== undefined
          ? {
              observer: keeper,
              beforeCommit: async (s: Session) => {
                try {
                  undo = await keeper.finish(
                    s,
                    plan.statements,
                    items.map((i) => i.runId),
                  )
                  return ok(undefined)
                } catch (error) {
                  return err(toRunError(error, { phase: 'commit', aftermath: 'rolled-back', ...runContext }))
                }
              },
            }
          : {}),
      }),
    async (result) => {
      // No intent on disk: nothing was sent, and there is no outcome to record.
      if (intent === 'failed') return []
      if (intent === 'pending') {
        // No connection: the attempt is recorded as before (its intent, then `failed`).
        const written = await recordIntents()
        if (written.isErr()) return [`The audit intent could not be written: ${written.error.message}`]
      }
      return recordOutcomes(
        scope,
        items,
        flags,
        result.map((r) => r.statements),
        'committed',
        (index) => {
          const link = undoAuditLink(options, undo, index)
          return link === undefined ? {} : { undo: link }
        },
        // Durable with the next intent's fsync, flush() or exit: nothing waits on an outcome
        // (docs/audit.md, "Durability").
        'with-next',
      )
    },
  )
  if (run.isErr()) return err(keeper?.failure ?? run.error)
  const durationMs = Math.round(performance.now() - started)
  const n = run.value.statements.length
  const what = run.value.inTransaction
    ? `Committed ${n} statement${n === 1 ? '' : 's'}`
    : `Ran ${run.value.statements[0]?.command ?? 'the statement'} alone, outside a transaction (Postgres cannot run it inside one)`
  const result: ExecuteResult = {
    mode: 'executed',
    project: ctx.project,
    tier: plan.tier,
    inTransaction: run.value.inTransaction,
    statements: run.value.statements,
    durationMs,
    message: `${what}; ${TIER_NAME[plan.tier]}; ${durationMs} ms.${undo !== undefined ? ` Kept for undo: ${undo.id} (ddl undo ${undo.id}).` : ''}`,
    ...(effects !== undefined ? { effects } : {}),
    warnings: [...notes, ...warnings],
    ...(undo !== undefined ? { undo } : {}),
  }
  return ok(result)
}

/**
 * What the caller must hear about the policy: that its lowering parts were ignored (not approved),
 * and each tier an approved policy lowered in this plan. Never throws.
 */
export function policyNotes(ctx: Pick<ExecutorContext, 'policy'>, plan: Plan): string[] {
  const notes: string[] = []
  if (ctx.policy.warning !== undefined) notes.push(ctx.policy.warning)
  for (const statement of plan.statements) {
    for (const l of statement.verdict.lowered ?? []) {
      notes.push(
        `line ${statement.span.line}: policy ${l.policyHash?.slice(0, 12) ?? '(unhashed)'} lowered ${l.rule} from ${l.from} to ${l.to} (approved by a person: ddl policy status).`,
      )
    }
  }
  return notes
}

async function rehearse(
  ctx: ExecutorContext,
  connector: Connector,
  plan: Plan,
  scope: AuditScope,
  items: readonly AuditedStatement[],
  flags: AuditFlags,
): Promise<Result<RehearsalResult, ExecutorError>> {
  const started = performance.now()
  let effects: MeasuredEffects = NO_EFFECTS
  const run = await withSession(connector, (session) =>
    rehearsePlan(
      session,
      plan,
      runContextOf(connector),
      {
        lockTimeoutMs: ctx.timeouts.rehearsalLockTimeoutMs,
        statementTimeoutMs: ctx.timeouts.statementTimeoutMs,
      },
      (measured) => {
        effects = measured
      },
    ),
  )
  const warnings = await recordOutcomes(scope, items, flags, run, 'rehearsed')
  if (run.isErr()) return err(run.error)
  const durationMs = Math.round(performance.now() - started)
  const notUndone = notUndoneBy(plan, run.value, effects)
  return ok({
    mode: 'rehearsal',
    project: ctx.project,
    tier: plan.tier,
    requires: plan.requires,
    statements: run.value,
    rolledBack: true,
    effects,
    effectTier: effectTier(effects, truncatedNames(plan)),
    notUndone,
    durationMs,
    message: rehearsalMessage(plan, run.value, ctx.flagStyle, effects, notUndone),
    warnings,
  })
}
