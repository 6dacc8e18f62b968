import { randomUUID } from 'node:crypto'
import { dirname } from 'node:path'
import type { AuditEntry, AuditFlags, AuditOutcome } from '@ddl/audit'
import { compareTiers, type RequiredFlag, requiredFlag, type Tier } from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import { type AuditScope, auditFlags, auditIds, type OutcomeDetails, recordAll } from '../audit-trail.js'
import { cancelOnAbort } from '../cancel-request.js'
import { checkTimeout, maxRowsProblem } from '../config.js'
import { allowedTier } from '../effect-check.js'
import type { ExecutorError } from '../errors.js'
import { auditError, withSession } from '../execute.js'
import { type ExecutorContext, runContextOf } from '../executor-context.js'
import type { GateFlags } from '../gate.js'
import { type RunContext, rollback } from '../plan-runner.js'
import type { Session } from '../session.js'
import { isServerError, toRunError } from '../statement-runner.js'
import { keeperFor, type UndoFlags, undoAuditLink } from '../undo/undo-run.js'
import { interruptedBefore, interruptedDuring } from './interruption.js'
import { MigrationRunError, withApplied } from './migration-error.js'
import { type MigrationFile, type PreparedMigration, prepareMigration, readMigrationFile } from './migration-file.js'
import { type ChangedMigration, fileIssues, gateMigrations } from './migration-gate.js'
import {
  compareMigrationNames,
  entryOfFile,
  findMigrations,
  looksLikeDown,
  type MigrationSource,
} from './migration-layout.js'
import { beginLocked, formatSeconds } from './migration-lock.js'
import type {
  AcceptedChange,
  AppliedMigration,
  MigrationEvent,
  MigrationPlan,
  MigrationReport,
  MigrationState,
  MigrationStatus,
  MigrationStatusEntry,
  PlannedMigration,
} from './migration-results.js'
import { type ApplyFailure, applyMigration } from './migration-runner.js'
import {
  ACCEPT_CHECKSUM,
  type AppliedRow,
  createTrackingTable,
  readApplied,
  readAppliedRow,
  readClaims,
  updateChecksum,
} from './tracking-table.js'

/** How long a runner waits for another runner's lock by default: one minute. */
export const DEFAULT_MIGRATION_WAIT_MS = 60_000

/** Options of a migration run. Flags apply to every file of the run. */
export interface MigrateOptions extends GateFlags, UndoFlags {
  /**
   * Applied files whose changed bytes are accepted: their new checksum is recorded (and audited)
   * instead of stopping the run. Names as in the tracking table (`2_users.sql`, `20240101000000_init`).
   */
  readonly acceptChanged?: readonly string[]
  /** `lock_timeout` for the files' statements, in ms (default: the configuration's `lockTimeoutMs`). */
  readonly lockTimeoutMs?: number
  /** `statement_timeout` for the files' statements, in ms (default: the configuration's `statementTimeoutMs`). */
  readonly statementTimeoutMs?: number
  /** How long to wait for another runner, in ms (default {@link DEFAULT_MIGRATION_WAIT_MS}; 0: do not wait). */
  readonly waitMs?: number
  /** Called at each step (for progress lines). Must not throw. */
  readonly onProgress?: (event: MigrationEvent) => void
  /**
   * Aborting it stops the run (Ctrl-C): the running statement is cancelled (a protocol cancel
   * request, as psql sends), its file rolls back and is audited as failed, and no later file starts.
   * The run then fails with `MigrationError` (`interrupted`).
   */
  readonly signal?: AbortSignal
  /**
   * The effect check's row limit for each file: a file that deletes or updates more rows (triggers
   * and cascades included) rolls back. Default: the context's (`maxRows` option or configuration).
   */
  readonly maxRows?: number
}

/** What a run learns from the directory and the tracking table before it gates anything. */
interface RunState {
  readonly files: readonly MigrationFile[]
  readonly tracking: boolean
  readonly rows: ReadonlyMap<string, AppliedRow>
  readonly pending: readonly MigrationFile[]
  readonly alreadyApplied: readonly string[]
  readonly changed: readonly ChangedMigration[]
  readonly notes: readonly string[]
}

/**
 * Applies the pending migrations of a directory (flat `*.sql` in natural order, or Prisma folders), on
 * one connection. Before anything runs, every applied file's checksum is checked and every pending
 * file is classified and gated; then each file runs in its own transaction with its tracking row,
 * under the runners' lock. See docs/migrations.md.
 *
 * Fails with `MigrationError` (a {@link MigrationRunError}: `layout`, `refused`, `checksum`,
 * `statement`, `connection`, `locked`, `claimed`, `tracking`, `audit`, `options`), `ConfigError`,
 * `ConnectionError`. Files applied before a failure stay applied. Never throws.
 *
 * @example
 * const report = await migrateDirectory(ctx, 'migrations', { confirm: true })
 */
export async function migrateDirectory(
  ctx: ExecutorContext,
  dir: string,
  options: MigrateOptions = {},
): Promise<Result<MigrationReport, ExecutorError>> {
  const source = await findMigrations(dir)
  if (source.isErr()) return err(source.error)
  return migrateSource(ctx, source.value, options, true)
}

/**
 * Applies one migration file, tracked like a directory's (skipped when applied, checksum checked).
 * A file named `migration.sql` is the Prisma migration of its folder. Fails like
 * {@link migrateDirectory}. Never throws.
 */
export async function migrateFile(
  ctx: ExecutorContext,
  file: string,
  options: MigrateOptions = {},
): Promise<Result<MigrationReport, ExecutorError>> {
  const entry = entryOfFile(file)
  if (looksLikeDown(entry.path)) {
    return err(
      new MigrationRunError(
        `${file} is named as a down migration; it is never applied forward. Revert with ddl migrate down DIR.`,
        { problem: 'layout', file: entry.name },
      ),
    )
  }
  const source: MigrationSource = {
    dir: dirname(entry.path),
    layout: entry.path.endsWith('/migration.sql') ? 'prisma' : entry.path.endsWith('/up.sql') ? 'diesel' : 'flat',
    entries: [entry],
    notes: [],
  }
  return migrateSource(ctx, source, options, false)
}

/** Options of `ddl migrate down`: the run's flags, and how many migrations to revert. */
export interface MigrateDownOptions extends MigrateOptions {
  /** How many applied migrations to revert, latest first (default 1). */
  readonly steps?: number
}

/**
 * Reverts the last `steps` applied migrations of a directory (latest first) with their down
 * migrations: golang-migrate `.down.sql`, dbmate and node-pg-migrate down sections, Diesel `down.sql`,
 * Flyway `U` files. Each down migration goes through the same gate as a forward one (a down that drops
 * a table is destructive and needs the flag), runs in its own transaction, and its migration's tracking
 * row is deleted in that same transaction. Fails like {@link migrateDirectory}, and with
 * `MigrationError` (`layout`) when a migration to revert has no down migration. Never throws.
 *
 * @example
 * await migrateDown(ctx, 'db/migrations', { steps: 1, iKnowWhatImDoing: true })
 */
export async function migrateDown(
  ctx: ExecutorContext,
  dir: string,
  options: MigrateDownOptions = {},
): Promise<Result<MigrationReport, ExecutorError>> {
  const steps = options.steps ?? 1
  if (!Number.isInteger(steps) || steps < 1) {
    return err(new MigrationRunError('steps must be a whole number, 1 or more.', { problem: 'options' }))
  }
  const source = await findMigrations(dir)
  if (source.isErr()) return err(source.error)
  return migrateSource(ctx, source.value, options, true, steps)
}

async function migrateSource(
  ctx: ExecutorContext,
  source: MigrationSource,
  options: MigrateOptions,
  wholeDirectory: boolean,
  downSteps?: number,
): Promise<Result<MigrationReport, ExecutorError>> {
  const direction = downSteps === undefined ? 'up' : 'down'
  const started = performance.now()
  const checked = checkOptions(options)
  if (checked.isErr()) return err(checked.error)
  const files = await readFiles(source)
  if (files.isErr()) return err(files.error)
  const connector = ctx.connector()
  if (connector.isErr()) return err(connector.error)
  const context = runContextOf(connector.value)
  const emit = options.onProgress ?? (() => undefined)

  const result = await withSession(
    connector.value,
    async (session): Promise<Result<MigrationReport, ExecutorError>> => {
      const state = await readState(session, context, source, files.value, options.acceptChanged ?? [], wholeDirectory)
      if (state.isErr()) return err(state.error)
      let { pending, alreadyApplied } = state.value
      if (downSteps !== undefined) {
        const downs = await downFiles(source, files.value, state.value.rows, downSteps)
        if (downs.isErr()) return err(downs.error)
        pending = downs.value
        alreadyApplied = []
      }
      const toAccept = state.value.changed.filter((c) => (options.acceptChanged ?? []).includes(c.name))
      const changed = state.value.changed.filter((c) => !(options.acceptChanged ?? []).includes(c.name))
      emit({
        type: 'found',
        dir: source.dir,
        layout: source.layout,
        direction,
        total: files.value.length,
        pending: pending.length,
        names: pending.map((f) => f.name),
      })

      const prepared: PreparedMigration[] = []
      for (const file of pending) prepared.push(await prepareMigration(file, ctx.classifyOptions))
      const flags = auditFlags(options)
      const gate = gateMigrations(prepared, changed, options, ctx.flagStyle)
      if (gate.isErr()) {
        await recordRefusals(ctx.audit, prepared, options, flags, ctx.flagStyle)
        return err(gate.error)
      }

      const settings = {
        waitMs: options.waitMs ?? DEFAULT_MIGRATION_WAIT_MS,
        lockTimeoutMs: options.lockTimeoutMs ?? ctx.timeouts.lockTimeoutMs,
        statementTimeoutMs: options.statementTimeoutMs ?? ctx.timeouts.statementTimeoutMs,
        nonTransactionalStatementTimeoutMs: ctx.timeouts.nonTransactionalStatementTimeoutMs,
        appliedBy: ctx.audit.actor ?? ctx.audit.log.actor,
        direction,
        keeper: () => keeperFor(ctx, options, undefined, ctx.flagStyle === 'cli' ? '--no-undo' : 'noUndo: true'),
        auditIds: (file: { readonly name: string }) => idsByFile.get(file.name) ?? [],
        // Each file is held to the run's flags (the gate already held its text to them).
        effects: {
          allowed: allowedTier(options),
          maxRows: options.maxRows ?? ctx.effects.maxRows,
          allowEffects: ctx.effects.allowEffects,
          style: ctx.flagStyle,
        },
      } as const
      const idsByFile = new Map<string, readonly string[]>()
      const notes = [...source.notes, ...state.value.notes]
      const aborted = () => options.signal?.aborted === true
      // Waiting for another runner's lock before the first file can be interrupted too.
      const notStarted = (error: ExecutorError) =>
        aborted()
          ? stopped(interruptedBefore(prepared[0]?.name ?? 'the first migration'), [], prepared.slice(1))
          : error
      if ((prepared.length > 0 || toAccept.length > 0) && !state.value.tracking) {
        const created = await cancelOnAbort(session.client, options.signal, () =>
          ensureTrackingTable(session, settings, context, (reason) =>
            emit({ type: 'waiting', name: 'public.ddl_migrations', reason }),
          ),
        )
        if (created.isErr()) return err(notStarted(created.error))
      }

      const accepted: AcceptedChange[] = []
      for (const change of toAccept) {
        const done = await cancelOnAbort(session.client, options.signal, () =>
          acceptChange(session, ctx.audit, change, flags, settings, context, (reason) =>
            emit({ type: 'waiting', name: change.name, reason }),
          ),
        )
        if (done.isErr()) return err(notStarted(done.error))
        accepted.push(done.value)
        emit({ type: 'accepted', change: done.value })
      }

      const applied: AppliedMigration[] = []
      const appliedByOthers: string[] = []
      for (const [index, file] of prepared.entries()) {
        if (aborted()) {
          return err(
            stopped(
              interruptedBefore(file.name),
              applied.map((a) => a.name),
              prepared.slice(index + 1),
            ),
          )
        }
        emit({
          type: 'start',
          name: file.name,
          tier: file.tier,
          transactional: file.transactional,
          index,
          count: prepared.length,
        })
        const scope: AuditScope = { ...ctx.audit, source: direction === 'down' ? `${file.name} (down)` : file.name }
        const items = auditIds(file.statements)
        idsByFile.set(
          file.name,
          items.map((i) => i.runId),
        )
        // Written while the file's opening round trip is in flight; no statement of it is sent before.
        let intentFailed = false
        const opening = async (): Promise<Result<unknown, MigrationRunError>> => {
          const intent = await recordAll(scope, items, flags, 'intent', () =>
            options.noUndo === true ? { undo: 'given-up' } : {},
          )
          if (intent.isOk()) return ok(undefined)
          intentFailed = true
          return err(
            new MigrationRunError(
              `The audit intent of migration ${file.name} could not be written, so it was not run: ${intent.error.message}`,
              { problem: 'audit', file: file.name },
              { cause: intent.error },
            ),
          )
        }
        const outcome = await cancelOnAbort(session.client, options.signal, () =>
          applyMigration(
            session,
            file,
            settings,
            context,
            (reason) => emit({ type: 'waiting', name: file.name, reason }),
            opening,
          ),
        )
        if (outcome.isErr() && intentFailed) {
          // Nothing of the file was sent, and there is no intent to give an outcome to.
          return err(
            stopped(
              outcome.error.error,
              applied.map((a) => a.name),
              prepared.slice(index + 1),
            ),
          )
        }
        if (outcome.isErr()) {
          const failure = aborted()
            ? { ...outcome.error, error: interruptedDuring(file.name, outcome.error.error) }
            : outcome.error
          await recordFailure(scope, items, flags, file, failure)
          return err(
            stopped(
              failure.error,
              applied.map((a) => a.name),
              prepared.slice(index + 1),
            ),
          )
        }
        if (outcome.value.status === 'applied-by-other') {
          await recordAll(scope, items, flags, 'rolled_back', () => ({ error: 'not sent: applied by another runner' }))
          appliedByOthers.push(file.name)
          emit({ type: 'skipped', name: file.name, reason: 'applied-by-another-runner' })
          continue
        }
        const { migration, runs } = outcome.value
        const recorded = await recordAll(
          scope,
          items,
          flags,
          'committed',
          (_item, i): OutcomeDetails => {
            const run = runs[i]
            const link = undoAuditLink(options, outcome.value.status === 'applied' ? outcome.value.undo : undefined, i)
            return {
              rowsAffected: run?.rowCount ?? undefined,
              durationMs: run?.durationMs,
              ...(link !== undefined ? { undo: link } : {}),
            }
          },
          // Durable with the next file's intent, or when the run ends (below): docs/audit.md.
          'with-next',
        )
        if (recorded.isErr())
          notes.push(`The audit outcome of ${file.name} could not be written: ${recorded.error.message}`)
        applied.push(migration)
        emit({ type: 'applied', migration, index, count: prepared.length })
      }

      const durationMs = Math.round(performance.now() - started)
      return ok({
        dir: source.dir,
        layout: source.layout,
        direction,
        total: files.value.length,
        applied,
        alreadyApplied,
        appliedByOthers,
        accepted,
        notes,
        durationMs,
        message:
          direction === 'down'
            ? downSummary(applied.length, appliedByOthers.length, durationMs)
            : summary(applied.length, alreadyApplied.length + appliedByOthers.length, accepted.length, durationMs),
      })
    },
  )
  // The last file's outcome was written with `flush: 'with-next'`: make it durable before returning.
  const flushed = await ctx.audit.log.flush()
  if (flushed.isErr() && result.isOk()) {
    return ok({
      ...result.value,
      notes: [...result.value.notes, `The audit outcomes could not be flushed to disk: ${flushed.error.message}`],
    })
  }
  return result
}

/**
 * The down migrations of the last `steps` applied migrations of the directory, latest first, each
 * named as its migration (the tracking row it removes). Fails when one has no down migration.
 */
async function downFiles(
  source: MigrationSource,
  files: readonly MigrationFile[],
  rows: ReadonlyMap<string, AppliedRow>,
  steps: number,
): Promise<Result<MigrationFile[], MigrationRunError>> {
  // Flyway repeatables are not undone (Flyway undoes versioned migrations only).
  const applied = files.filter((f) => rows.has(f.name) && f.repeatable !== true)
  const chosen = applied.slice(-steps).reverse()
  const result: MigrationFile[] = []
  for (const file of chosen) {
    if (file.down === undefined) {
      return err(
        new MigrationRunError(
          `Migration ${file.name} has no down migration (${source.layout} layout${
            source.layout === 'flat' || source.layout === 'prisma' || source.layout === 'drizzle'
              ? ', which has none'
              : ''
          }): nothing was reverted. Write a new forward migration instead.`,
          { problem: 'layout', file: file.name },
        ),
      )
    }
    const read = await readMigrationFile({
      name: file.name,
      path: file.down.path,
      part: 'down',
      ...(file.down.dialect !== undefined ? { dialect: file.down.dialect } : {}),
      ...(file.outsideTransaction === true ? { outsideTransaction: true } : {}),
    })
    if (read.isErr()) return err(read.error)
    result.push(read.value)
  }
  return ok(result)
}

function downSummary(reverted: number, byOthers: number, durationMs: number): string {
  const what =
    reverted === 0
      ? byOthers > 0
        ? 'Nothing to revert: reverted by another runner meanwhile'
        : 'Nothing to revert: no migration of the folder is applied'
      : `Reverted ${reverted} migration${reverted === 1 ? '' : 's'}`
  return `${what} in ${durationMs < 10_000 ? `${durationMs} ms` : formatSeconds(durationMs)}.`
}

/**
 * What a run of the directory would do, without running or writing anything (`ddl migrate DIR
 * --plan`): for each pending file its tier, findings, the flag it needs, whether it runs in a
 * transaction, and why it would be refused. Reads the tracking table (a missing one means nothing
 * was applied). Fails with `MigrationError` (`layout`), `ConfigError`, `ConnectionError`,
 * `PostgresError`. Never throws.
 */
export async function planMigrationRun(
  ctx: ExecutorContext,
  dir: string,
  options: GateFlags & { readonly acceptChanged?: readonly string[] } = {},
): Promise<Result<MigrationPlan, ExecutorError>> {
  const source = await findMigrations(dir)
  if (source.isErr()) return err(source.error)
  const files = await readFiles(source.value)
  if (files.isErr()) return err(files.error)
  const connector = ctx.connector()
  if (connector.isErr()) return err(connector.error)
  const context = runContextOf(connector.value)
  return withSession(connector.value, async (session): Promise<Result<MigrationPlan, ExecutorError>> => {
    const state = await readState(session, context, source.value, files.value, options.acceptChanged ?? [], true)
    if (state.isErr()) return err(state.error)
    const changed = state.value.changed.filter((c) => !(options.acceptChanged ?? []).includes(c.name))
    const pending: PlannedMigration[] = []
    let tier: Tier = 'safe'
    const prepared: PreparedMigration[] = []
    for (const file of state.value.pending) {
      const p = await prepareMigration(file, ctx.classifyOptions)
      prepared.push(p)
      if (compareTiers(p.tier, tier) > 0) tier = p.tier
      const issues = fileIssues(p, options, ctx.flagStyle)
      pending.push({
        name: p.name,
        path: p.path,
        tier: p.tier,
        requires: p.requires,
        allowed: issues.length === 0,
        transactional: p.transactional,
        statements: p.statements.length,
        strippedLines: p.stripped.map((s) => s.span.line),
        findings: p.findings,
        issues,
      })
    }
    const gate = gateMigrations(prepared, changed, options, ctx.flagStyle)
    const requires: RequiredFlag = requiredFlag(tier)
    return ok({
      dir: source.value.dir,
      layout: source.value.layout,
      total: files.value.length,
      alreadyApplied: state.value.alreadyApplied,
      pending,
      changed: state.value.changed.map((c) => c.name),
      requires,
      wouldRun: gate.isOk(),
      notes: [...source.value.notes, ...state.value.notes],
    })
  })
}

/**
 * Where each migration of a directory stands (`ddl migrate status DIR`): applied, pending, changed
 * since applied, claimed by a runner, or applied but missing from the directory. Writes nothing.
 * Fails with `MigrationError` (`layout`), `ConfigError`, `ConnectionError`, `PostgresError`. Never throws.
 */
export async function readMigrationStatus(
  ctx: ExecutorContext,
  dir: string,
): Promise<Result<MigrationStatus, ExecutorError>> {
  const source = await findMigrations(dir)
  if (source.isErr()) return err(source.error)
  const files = await readFiles(source.value)
  if (files.isErr()) return err(files.error)
  const connector = ctx.connector()
  if (connector.isErr()) return err(connector.error)
  const context = runContextOf(connector.value)
  return withSession(connector.value, async (session): Promise<Result<MigrationStatus, ExecutorError>> => {
    let tracked: Awaited<ReturnType<typeof readApplied>>
    let claims: Awaited<ReturnType<typeof readClaims>>
    try {
      tracked = await readApplied(session.client)
      claims = await readClaims(session.client)
    } catch (error) {
      return err(trackingError(toRunError(error, inspectSite(context))))
    }
    const entries: MigrationStatusEntry[] = []
    const inDir = new Set<string>()
    for (const file of files.value) {
      inDir.add(file.name)
      const row = tracked.rows.get(file.name)
      const claim = claims.find((c) => c.name === file.name)
      if (row !== undefined) {
        entries.push({
          name: file.name,
          state: row.checksum === file.checksum ? 'applied' : 'changed',
          path: file.path,
          ...rowFields(row),
        })
      } else if (claim !== undefined) {
        entries.push({
          name: file.name,
          state: 'claimed',
          path: file.path,
          claim: { claimedAt: claim.claimedAt, claimedBy: claim.claimedBy, alive: claim.alive },
        })
      } else {
        entries.push({ name: file.name, state: 'pending', path: file.path })
      }
    }
    for (const row of tracked.rows.values()) {
      if (!inDir.has(row.name)) entries.push({ name: row.name, state: 'missing', ...rowFields(row) })
    }
    const counts: Record<MigrationState, number> = { applied: 0, pending: 0, changed: 0, missing: 0, claimed: 0 }
    for (const entry of entries) counts[entry.state]++
    return ok({ dir: source.value.dir, layout: source.value.layout, tracking: tracked.exists, entries, counts })
  })
}

function rowFields(row: AppliedRow) {
  return {
    appliedAt: row.appliedAt,
    durationMs: row.durationMs,
    tier: row.tier,
    appliedBy: row.appliedBy,
    transactional: row.transactional,
  }
}

function checkOptions(options: MigrateOptions): Result<void, MigrationRunError> {
  if (options.maxRows !== undefined) {
    const problem = maxRowsProblem(options.maxRows)
    if (problem !== undefined) return err(new MigrationRunError(problem, { problem: 'options' }))
  }
  for (const key of ['lockTimeoutMs', 'statementTimeoutMs', 'waitMs'] as const) {
    const value = options[key]
    if (value === undefined) continue
    const problem = checkTimeout(key, value)
    if (problem !== undefined) return err(new MigrationRunError(problem, { problem: 'options' }))
  }
  const accept = options.acceptChanged
  if (accept !== undefined && (!Array.isArray(accept) || accept.some((n) => typeof n !== 'string' || n === ''))) {
    return err(new MigrationRunError('acceptChanged must list migration names.', { problem: 'options' }))
  }
  return ok(undefined)
}

async function readFiles(source: MigrationSource): Promise<Result<MigrationFile[], MigrationRunError>> {
  const files: MigrationFile[] = []
  for (const entry of source.entries) {
    const file = await readMigrationFile(entry)
    if (file.isErr()) return err(file.error)
    files.push(file.value)
  }
  return ok(files)
}

/** Reads the tracking table (without creating it) and sorts the files into applied, changed and pending. */
async function readState(
  session: Session,
  context: RunContext,
  source: MigrationSource,
  files: readonly MigrationFile[],
  acceptChanged: readonly string[],
  wholeDirectory: boolean,
): Promise<Result<RunState, ExecutorError>> {
  let tracked: Awaited<ReturnType<typeof readApplied>>
  try {
    tracked = await readApplied(session.client)
  } catch (error) {
    return err(trackingError(toRunError(error, inspectSite(context))))
  }
  const pending: MigrationFile[] = []
  const alreadyApplied: string[] = []
  const changed: ChangedMigration[] = []
  const notes: string[] = []
  let lastApplied: string | undefined
  for (const file of files) {
    const row = tracked.rows.get(file.name)
    if (row === undefined) {
      pending.push(file)
      continue
    }
    if (row.checksum !== file.checksum && file.repeatable === true) {
      pending.push(file)
      notes.push(`${file.name} is a repeatable migration whose file changed since it was applied: it is applied again.`)
      continue
    }
    alreadyApplied.push(file.name)
    lastApplied = file.name
    if (row.checksum !== file.checksum) {
      changed.push({ name: file.name, path: file.path, recorded: row.checksum, current: file.checksum })
    }
  }
  if (lastApplied !== undefined) {
    const early = pending.filter((f) => compareMigrationNames(f.name, lastApplied) < 0)
    if (early.length > 0) {
      notes.push(
        `${early.length} pending migration${early.length === 1 ? ' sorts' : 's sort'} before ${lastApplied}, which is ` +
          `already applied: ${early
            .slice(0, 5)
            .map((f) => f.name)
            .join(', ')}${early.length > 5 ? ', ...' : ''}. They are applied now, out of order.`,
      )
    }
  }
  if (wholeDirectory) {
    const names = new Set(files.map((f) => f.name))
    const gone = [...tracked.rows.keys()].filter((n) => !names.has(n))
    if (gone.length > 0) {
      notes.push(
        `${gone.length} applied migration${gone.length === 1 ? ' is' : 's are'} not in ${source.dir}: ` +
          `${gone.slice(0, 5).join(', ')}${gone.length > 5 ? ', ...' : ''}.`,
      )
    }
  }
  for (const name of acceptChanged) {
    if (!changed.some((c) => c.name === name)) {
      notes.push(
        tracked.rows.has(name)
          ? `${name} is unchanged since it was applied: nothing to accept.`
          : `${name} is not an applied migration: nothing to accept.`,
      )
    }
  }
  return ok({ files, tracking: tracked.exists, rows: tracked.rows, pending, alreadyApplied, changed, notes })
}

async function ensureTrackingTable(
  session: Session,
  settings: { waitMs: number; lockTimeoutMs: number; statementTimeoutMs: number },
  context: RunContext,
  onWait: (reason: string) => void,
): Promise<Result<void, ExecutorError>> {
  const locked = await beginLocked(session, settings, context, onWait)
  if (locked.isErr()) return err(locked.error instanceof MigrationRunError ? locked.error : trackingError(locked.error))
  try {
    await createTrackingTable(session.client)
    await session.client.query('COMMIT')
    return ok(undefined)
  } catch (error) {
    if (!isServerError(error)) session.broken = true
    else await rollback(session)
    return err(trackingError(toRunError(error, inspectSite(context))))
  }
}

/**
 * Records the new checksum of a changed, applied file, in a locked transaction, with an audit intent
 * before and an outcome after. The tracking row must still hold the checksum seen at the start.
 */
async function acceptChange(
  session: Session,
  scope: AuditScope,
  change: ChangedMigration,
  flags: AuditFlags,
  settings: { waitMs: number; lockTimeoutMs: number; statementTimeoutMs: number },
  context: RunContext,
  onWait: (reason: string) => void,
): Promise<Result<AcceptedChange, ExecutorError>> {
  const runId = randomUUID()
  const quoted = (s: string) => `'${s.replaceAll("'", "''")}'`
  const statement =
    `${ACCEPT_CHECKSUM.replace('$1', quoted(change.current)).replace('$2', quoted(change.name))}` +
    ` -- accept the changed file; checksum was ${change.recorded}`
  const entry = (outcome: AuditOutcome, error?: string): AuditEntry => ({
    project: scope.project,
    tier: 'cautious',
    statement,
    flags,
    outcome,
    runId,
    source: change.name,
    ...(scope.actor !== undefined ? { actor: scope.actor } : {}),
    ...(error !== undefined ? { error } : {}),
  })
  const intent = await scope.log.append(entry('intent'))
  if (intent.isErr()) {
    return err(
      new MigrationRunError(
        `The audit intent of accepting ${change.name} could not be written: ${intent.error.message}`,
        {
          problem: 'audit',
          file: change.name,
        },
      ),
    )
  }
  const fail = async (error: MigrationRunError) => {
    await scope.log.append(entry('failed', auditError(error)))
    return err(error)
  }
  const locked = await beginLocked(session, settings, context, onWait)
  if (locked.isErr()) {
    const error = locked.error instanceof MigrationRunError ? locked.error : trackingError(locked.error)
    return fail(error)
  }
  try {
    const row = await readAppliedRow(session.client, change.name)
    if (row === undefined || row.checksum !== change.recorded) {
      await rollback(session)
      return fail(
        new MigrationRunError(
          `The tracking row of ${change.name} changed while this run started (another runner?); nothing was accepted. Run again.`,
          { problem: 'checksum', file: change.name },
        ),
      )
    }
    await updateChecksum(session.client, change.name, change.current)
    await session.client.query('COMMIT')
  } catch (error) {
    if (!isServerError(error)) session.broken = true
    else await rollback(session)
    return fail(trackingError(toRunError(error, inspectSite(context))))
  }
  await scope.log.append(entry('committed'))
  return ok({ name: change.name, previousChecksum: change.recorded, checksum: change.current })
}

/** Records `blocked` for the statements of every refused file (best effort: the refusal stands anyway). */
async function recordRefusals(
  audit: AuditScope,
  prepared: readonly PreparedMigration[],
  options: GateFlags,
  flags: AuditFlags,
  style: ExecutorContext['flagStyle'],
): Promise<void> {
  for (const file of prepared) {
    const issues = fileIssues(file, options, style)
    const first = issues[0]
    if (first === undefined) continue
    const statements = file.plan?.statements ?? []
    if (statements.length === 0) continue
    await recordAll({ ...audit, source: file.name }, auditIds(statements), flags, 'blocked', () => ({
      error: first.message,
    }))
  }
}

/** Records the outcome of a file that failed: what ran, what failed, what was rolled back or never sent. */
async function recordFailure(
  scope: AuditScope,
  items: ReturnType<typeof auditIds>,
  flags: AuditFlags,
  file: PreparedMigration,
  failure: ApplyFailure,
): Promise<void> {
  const message = auditError(failure.error)
  await recordAll(
    scope,
    items,
    flags,
    (_item, index) => {
      if (failure.failedIndex === undefined) return 'failed'
      if (index === failure.failedIndex) return 'failed'
      if (!file.transactional && index < failure.failedIndex) return 'committed'
      return 'rolled_back'
    },
    (_item, index): OutcomeDetails => {
      if (failure.failedIndex === undefined || index === failure.failedIndex) {
        return { sqlstate: failure.error.sqlstate, error: message }
      }
      if (index < failure.failedIndex) {
        const run = failure.runs[index]
        return file.transactional
          ? { error: 'rolled back: a later statement of the file failed' }
          : { rowsAffected: run?.rowCount ?? undefined, durationMs: run?.durationMs }
      }
      return { error: 'not sent: an earlier statement of the file failed' }
    },
  )
}

/** The error of a file that stopped the run, saying what stays applied and what did not run. */
function stopped(
  error: MigrationRunError,
  applied: readonly string[],
  later: readonly PreparedMigration[],
): MigrationRunError {
  const withLater =
    later.length === 0
      ? error
      : new MigrationRunError(
          `${error.message}\nNot run: ${later.length} later migration${later.length === 1 ? '' : 's'} (${later
            .slice(0, 3)
            .map((f) => f.name)
            .join(', ')}${later.length > 3 ? ', ...' : ''}).`,
          {
            problem: error.problem,
            file: error.file,
            issues: error.issues,
            line: error.line,
            sqlstate: error.sqlstate,
          },
          error.cause === undefined ? undefined : { cause: error.cause },
        )
  return withApplied(withLater, applied)
}

function trackingError(error: ExecutorError): MigrationRunError {
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined
  return new MigrationRunError(
    `The tracking table public.ddl_migrations could not be read or written${code !== undefined ? ` (SQLSTATE ${code})` : ''}: ${error.message}`,
    { problem: 'tracking', sqlstate: error.kind === 'PostgresError' ? error.code : undefined },
    { cause: error },
  )
}

function inspectSite(context: RunContext) {
  return {
    phase: 'inspect' as const,
    aftermath: 'none' as const,
    secrets: context.secrets,
    connectionError: context.connectionError,
  }
}

function summary(applied: number, skipped: number, accepted: number, durationMs: number): string {
  const parts: string[] = []
  if (applied === 0)
    parts.push(skipped > 0 ? `Nothing to apply: all ${skipped} migrations are applied` : 'Nothing to apply')
  else
    parts.push(
      `Applied ${applied} migration${applied === 1 ? '' : 's'}${skipped > 0 ? ` (${skipped} already applied)` : ''}`,
    )
  if (accepted > 0) parts.push(`accepted ${accepted} changed file${accepted === 1 ? '' : 's'}`)
  return `${parts.join('; ')} in ${durationMs < 10_000 ? `${durationMs} ms` : formatSeconds(durationMs)}.`
}
