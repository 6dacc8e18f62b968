import { userInfo } from 'node:os'
import type { Plan } from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import { resolveUndo } from '../config.js'
import type { ExecutorError } from '../errors.js'
import { withSession } from '../execute.js'
import { type ExecutorContext, runContextOf } from '../executor-context.js'
import { inTransaction } from '../plan-runner.js'
import { toRunError } from '../statement-runner.js'
import { UndoError } from './undo-error.js'
import type { UndoSummary } from './undo-items.js'
import { UndoKeeper } from './undo-keeper.js'
import { listKept, purgeKept, restoreKept, type UndoEntry, type UndoRestore } from './undo-restore.js'
import { isUndoId } from './undo-store.js'

/** The per-run undo option every gated entry point takes. */
export interface UndoFlags {
  /**
   * Give up the kept copy for this run: nothing is kept, so `ddl undo` cannot take it back. Needed
   * when what would be kept is above `undo.maxBytes`. Recorded in the audit log (`undo: given-up`).
   */
  readonly noUndo?: boolean
}

/** Who acts, for the undo catalog. */
export function actorOf(ctx: ExecutorContext): string | undefined {
  if (ctx.audit.actor !== undefined) return ctx.audit.actor
  const env = ctx.env.DDL_ACTOR
  if (env !== undefined && env !== '') return env
  try {
    return userInfo().username
  } catch {
    return undefined
  }
}

/**
 * A keeper for one run, or undefined when undo is off for the project (`undo.enabled: false`), the
 * caller gave it up (`noUndo`), or the plan is one statement run outside a transaction (nothing can
 * be kept in step with it). Never throws.
 */
export function keeperFor(
  ctx: ExecutorContext,
  flags: UndoFlags,
  plan: Plan | undefined,
  flag: string,
): UndoKeeper | undefined {
  const settings = resolveUndo(ctx.config.config.undo)
  if (!settings.enabled || flags.noUndo === true) return undefined
  const only = plan !== undefined && plan.statements.length === 1 ? plan.statements[0] : undefined
  if (only !== undefined && !only.verdict.transactional) return undefined
  return new UndoKeeper({ project: ctx.project, actor: actorOf(ctx), maxBytes: settings.maxBytes }, flag)
}

/**
 * The audit `undo` field of a statement's outcome: `substituted:<id>` when it was not sent as written
 * (a DROP TABLE moved instead), `kept:<id>` when the run kept something, `given-up` with `noUndo`.
 */
export function undoAuditLink(flags: UndoFlags, summary: UndoSummary | undefined, index?: number): string | undefined {
  if (summary !== undefined) {
    return summary.substituted.some((s) => s.index === index) ? `substituted:${summary.id}` : `kept:${summary.id}`
  }
  return flags.noUndo === true ? 'given-up' : undefined
}

/** Options of `PostgresAPI.undo()`. */
export interface UndoOptions {
  /** Undo is destructive work (it removes what later runs... of the same rows wrote): it needs this flag. */
  readonly iKnowWhatImDoing?: boolean
}

/** What `PostgresAPI.undo()` did. */
export interface UndoResult extends UndoRestore {
  readonly mode: 'undone'
  readonly project: string
  readonly durationMs: number
  readonly message: string
  readonly warnings: readonly string[]
}

/**
 * `undo(id)`: gated (needs `iKnowWhatImDoing`), audited (intent before, outcome after, `undo:
 * restores:<id>`), run in one transaction: conflicts refuse it whole, nothing restored. Never throws.
 */
export async function undoRun(
  ctx: ExecutorContext,
  id: string,
  options: UndoOptions,
): Promise<Result<UndoResult, ExecutorError>> {
  if (typeof id !== 'string' || !isUndoId(id)) {
    return err(
      new UndoError(
        `"${String(id).slice(0, 40)}" is not an undo id (they look like u3f9a1c2b7d01); ddl undo --list shows them.`,
        'options',
      ),
    )
  }
  if (options.iKnowWhatImDoing !== true) {
    return err(
      new UndoError(
        `Undo ${id} puts back what that run removed and removes what it wrote: it is destructive work.\n` +
          (ctx.flagStyle === 'cli' ? 'Use --i-know-what-im-doing to run it.' : 'Use iKnowWhatImDoing: true to run it.'),
        'options',
      ),
    )
  }
  const connector = ctx.connector()
  if (connector.isErr()) return err(connector.error)
  const statement = `ddl undo ${id}`
  const flags = { confirm: false, iKnowWhatImDoing: true, dryRun: false, rehearse: false }
  const base = {
    project: ctx.project,
    tier: 'destructive' as const,
    statement,
    flags,
    undo: `restores:${id}`,
    ...(ctx.audit.actor !== undefined ? { actor: ctx.audit.actor } : {}),
  }
  const intent = await ctx.audit.log.append([{ ...base, outcome: 'intent' }])
  if (intent.isErr()) return err(intent.error)
  const started = performance.now()
  const context = runContextOf(connector.value)
  const run = await withSession(connector.value, (session) =>
    inTransaction<UndoRestore, ExecutorError>(
      session,
      { lockTimeoutMs: ctx.timeouts.lockTimeoutMs, statementTimeoutMs: ctx.timeouts.statementTimeoutMs },
      context,
      () => guarded(context, () => restoreKept(session, id)),
    ),
  )
  const durationMs = Math.round(performance.now() - started)
  const outcome = await ctx.audit.log.append([
    {
      ...base,
      outcome: run.isOk() ? 'committed' : 'failed',
      durationMs,
      ...(run.isErr() ? { error: run.error.message.split('\n')[0]?.slice(0, 500) ?? '' } : {}),
    },
  ])
  const warnings = outcome.isErr() ? [`The audit outcome could not be written: ${outcome.error.message}`] : []
  if (run.isErr()) return err(run.error)
  const n = Object.values(run.value.rows).reduce((a, b) => a + b, 0)
  return ok({
    ...run.value,
    mode: 'undone',
    project: ctx.project,
    durationMs,
    message: `Undid ${id}: restored ${run.value.objects.join(', ')} (${n} row${n === 1 ? '' : 's'}); ${durationMs} ms.`,
    warnings,
  })
}

async function guarded<T>(
  context: ReturnType<typeof runContextOf>,
  work: () => Promise<T>,
): Promise<Result<T, ExecutorError>> {
  try {
    return ok(await work())
  } catch (error) {
    if (error instanceof UndoError) return err(error)
    return err(
      toRunError(error, {
        phase: 'statement',
        aftermath: 'rolled-back',
        secrets: context.secrets,
        connectionError: context.connectionError,
      }),
    )
  }
}

/** `undo --list`: every kept run, newest first. Never throws. */
export async function listUndo(ctx: ExecutorContext): Promise<Result<UndoEntry[], ExecutorError>> {
  const connector = ctx.connector()
  if (connector.isErr()) return err(connector.error)
  const context = runContextOf(connector.value)
  return withSession(connector.value, (session) =>
    inTransaction<UndoEntry[], ExecutorError>(
      session,
      {
        lockTimeoutMs: ctx.timeouts.lockTimeoutMs,
        statementTimeoutMs: ctx.timeouts.statementTimeoutMs,
        readOnly: true,
      },
      context,
      () => guarded(context, () => listKept(session)),
    ),
  )
}

/**
 * `undo --purge`: drops the kept copies older than `olderThanMs` (default: the project's
 * `undo.retentionDays`); audited (`undo: purged:<id>` per run). Never throws.
 */
export async function purgeUndo(
  ctx: ExecutorContext,
  olderThanMs?: number,
): Promise<Result<{ readonly purged: readonly string[] }, ExecutorError>> {
  const age = olderThanMs ?? resolveUndo(ctx.config.config.undo).retentionDays * 86_400_000
  if (!Number.isFinite(age) || age < 0)
    return err(new UndoError('The age to purge must be 0 or more (e.g. 7d).', 'options'))
  const connector = ctx.connector()
  if (connector.isErr()) return err(connector.error)
  const context = runContextOf(connector.value)
  const flags = { confirm: false, iKnowWhatImDoing: false, dryRun: false, rehearse: false }
  const statement = `ddl undo --purge --older-than ${Math.round(age / 1000)}s`
  const base = {
    project: ctx.project,
    tier: 'cautious' as const,
    statement,
    flags,
    ...(ctx.audit.actor !== undefined ? { actor: ctx.audit.actor } : {}),
  }
  const intent = await ctx.audit.log.append([{ ...base, outcome: 'intent' }])
  if (intent.isErr()) return err(intent.error)
  const run = await withSession(connector.value, (session) =>
    inTransaction<string[], ExecutorError>(
      session,
      { lockTimeoutMs: ctx.timeouts.lockTimeoutMs, statementTimeoutMs: ctx.timeouts.statementTimeoutMs },
      context,
      () => guarded(context, () => purgeKept(session, age)),
    ),
  )
  await ctx.audit.log.append(
    run.isOk()
      ? run.value.length === 0
        ? [{ ...base, outcome: 'committed' as const, rowsAffected: 0 }]
        : run.value.map((id) => ({ ...base, outcome: 'committed' as const, undo: `purged:${id}` }))
      : [{ ...base, outcome: 'failed' as const, error: run.error.message.split('\n')[0] ?? '' }],
  )
  if (run.isErr()) return err(run.error)
  return ok({ purged: run.value })
}

/** Parses `7d`, `12h`, `30m`, `45s`, `0` into milliseconds; undefined when malformed. */
export function parseAge(text: string): number | undefined {
  const m = /^(\d+)\s*(d|h|m|s)?$/.exec(text.trim())
  if (m === null) return undefined
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000 }[(m[2] ?? 'd') as 'd' | 'h' | 'm' | 's']
  return Number(m[1]) * unit
}
