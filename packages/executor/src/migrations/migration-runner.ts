import type { ClassifiedStatement } from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import {
  checkEffects,
  type EffectLimits,
  EffectProbe,
  expectsEffects,
  judgeMeasured,
  truncatedNames,
} from '../effect-check.js'
import { ConnectionError, PostgresError } from '../errors.js'
import { type RunContext, type RunError, rollback, runStatements, type StatementObserver } from '../plan-runner.js'
import { PIN_READING_LOCAL, pinReadingCalls } from '../reading-settings.js'
import type { StatementRun } from '../results.js'
import type { Session } from '../session.js'
import { isServerError, toRunError } from '../statement-runner.js'
import type { UndoSummary } from '../undo/undo-items.js'
import type { UndoKeeper } from '../undo/undo-keeper.js'
import { MigrationRunError } from './migration-error.js'
import { type PreparedMigration, statementsThatRunAlone } from './migration-file.js'
import { beginLocked, formatSeconds, type LockSettings, RUNNER_LOCK_KEY } from './migration-lock.js'
import type { AppliedMigration } from './migration-results.js'
import {
  type AppliedRow,
  appliedRowOf,
  appliedRowSql,
  createClaimsTable,
  deleteApplied,
  deleteAppliedSql,
  deleteClaim,
  insertApplied,
  insertAppliedSql,
  insertClaim,
  readAppliedRow,
  readClaim,
} from './tracking-table.js'

/** How files are applied. */
export interface ApplySettings extends LockSettings {
  /** `statement_timeout` for statements run outside a transaction (0: none). */
  readonly nonTransactionalStatementTimeoutMs: number
  /** Recorded as `applied_by`. */
  readonly appliedBy: string
  /** How often a runner looks again at a file claimed by another runner, in ms. */
  readonly pollMs?: number
  /**
   * `up` (default): the file is applied and its tracking row inserted. `down` (`ddl migrate down`):
   * the file is a down migration, and the tracking row of its migration is removed with it.
   */
  readonly direction?: 'up' | 'down'
  /** A keeper for undo per file run in a transaction, or undefined (undo off or given up). */
  readonly keeper?: (file: PreparedMigration) => UndoKeeper | undefined
  /** The audit `runId`s of a file's statements (recorded with what undo kept). */
  readonly auditIds?: (file: PreparedMigration) => readonly string[]
  /** What the effect check holds each file run in a transaction to (the run's flags, `maxRows`). */
  readonly effects?: EffectLimits
}

/** What applying one file came to. */
export type ApplyOutcome =
  | {
      readonly status: 'applied'
      readonly migration: AppliedMigration
      readonly runs: readonly StatementRun[]
      /** What undo kept of this file, when anything. */
      readonly undo?: UndoSummary
    }
  /** Another runner applied it first (or, going down, reverted it first), seen after taking the lock: nothing was sent. */
  | { readonly status: 'applied-by-other' }

/** Why applying one file failed, and how far it got (for the audit outcome). */
export interface ApplyFailure {
  readonly error: MigrationRunError
  /** 0-based index of the failing statement among those sent, when a statement failed. */
  readonly failedIndex: number | undefined
  /** Statements that ran (for a file outside a transaction, they stay applied). */
  readonly runs: readonly StatementRun[]
}

/** Called while a runner waits for a file another runner claimed. */
export type WaitListener = (reason: string) => void

const CONNECTION_CODES = /^(08|57P0[1-5])/

/**
 * Applies one pending file on the session.
 *
 * In a transaction (the usual case): `BEGIN`, the runners' lock (waiting at most `waitMs`), a fresh
 * read of the file's tracking row (another runner may have applied it meanwhile: then nothing is sent),
 * `SET LOCAL lock_timeout`/`statement_timeout`, each statement alone and byte for byte, the tracking
 * row, `COMMIT`. Any failure rolls all of it back.
 *
 * Outside a transaction (every statement is CREATE INDEX CONCURRENTLY or the like): the file is claimed
 * in a short locked transaction (a runner that finds a live claim waits, then fails), its statements
 * run one at a time under session-level timeouts, then the tracking row is written and the claim
 * removed in a second locked transaction. Never throws.
 */
export async function applyMigration(
  session: Session,
  file: PreparedMigration,
  settings: ApplySettings,
  context: RunContext,
  onWait: WaitListener = () => undefined,
  opening?: Opening,
): Promise<Result<ApplyOutcome, ApplyFailure>> {
  if (file.transactional) return applyInTransaction(session, file, settings, context, onWait, opening)
  if (opening !== undefined) {
    const opened = await opening()
    if (opened.isErr()) return failure(opened.error)
  }
  return applyOutside(session, file, settings, context, onWait)
}

/**
 * The audit intent of a file, written while the file's opening round trip (BEGIN, the lock, the
 * limits, the tracking row, the effect baseline: nothing that changes anything) is in flight. No
 * statement of the file is sent before it resolves `Ok`; an `Err` (a `MigrationRunError`, `audit`)
 * rolls back and is returned.
 */
export type Opening = () => PromiseLike<Result<unknown, MigrationRunError>>

/** `'5000ms'`: built from a number only. */
function millis(ms: number): string {
  return `'${Math.trunc(Number(ms))}ms'`
}

/**
 * Opens a file's transaction in one round trip: `BEGIN ISOLATION LEVEL READ COMMITTED`, the runners'
 * lock tried without waiting, the file's `SET LOCAL` limits and the reading pins, its tracking row
 * (read after the lock, so with what other runners committed before it), and the effect baseline.
 * `opening` runs while it is in flight. `slow` when another runner holds the lock: the transaction
 * was rolled back, and the caller takes the waiting path ({@link beginLocked}).
 */
async function openFile(
  session: Session,
  file: PreparedMigration,
  settings: ApplySettings,
  context: RunContext,
  probe: EffectProbe | undefined,
  opening: Opening | undefined,
): Promise<Result<'slow' | 'run' | 'done', ApplyFailure>> {
  const text = [
    'BEGIN ISOLATION LEVEL READ COMMITTED',
    `SELECT pg_catalog.pg_try_advisory_xact_lock(${RUNNER_LOCK_KEY}::bigint) AS locked`,
    `SET LOCAL lock_timeout = ${millis(settings.lockTimeoutMs)}`,
    `SET LOCAL statement_timeout = ${millis(settings.statementTimeoutMs)}`,
    PIN_READING_LOCAL,
    appliedRowSql(file.name),
    ...(probe !== undefined ? [probe.snapshotSql] : []),
  ].join('; ')
  const sent = session.client.query(text) as unknown as Promise<{ rows: Record<string, unknown>[] }[]>
  sent.catch(() => undefined) // read below; no unhandled rejection while `opening` runs
  if (opening !== undefined) {
    const opened = await opening()
    if (opened.isErr()) {
      try {
        await sent
        await rollback(session)
      } catch (error) {
        if (!isServerError(error)) session.broken = true
        else await rollback(session)
      }
      return failure(opened.error)
    }
  }
  let results: { rows: Record<string, unknown>[] }[]
  try {
    results = await sent
  } catch (error) {
    if (!isServerError(error)) session.broken = true
    else await rollback(session)
    return failure(fileError(file, toRunError(error, site(context, 'settings')), { phase: 'lock' }))
  }
  if (results[1]?.rows[0]?.locked !== true) {
    await rollback(session)
    return ok('slow')
  }
  const tail = probe !== undefined ? 2 : 0
  if (probe !== undefined) probe.begun(results.at(-2)?.rows ?? [], results.at(-1)?.rows ?? [])
  const row = appliedRowOf(results.at(-1 - tail)?.rows ?? [])
  return judgeRow(session, file, row, settings.direction ?? 'up')
}

async function applyInTransaction(
  session: Session,
  file: PreparedMigration,
  settings: ApplySettings,
  context: RunContext,
  onWait: WaitListener,
  opening?: Opening,
): Promise<Result<ApplyOutcome, ApplyFailure>> {
  const probe = settings.effects === undefined ? undefined : new EffectProbe()
  const opened = await openFile(session, file, settings, context, probe, opening)
  if (opened.isErr()) return failure(opened.error)
  if (opened.value === 'done') return ok({ status: 'applied-by-other' })
  if (opened.value === 'slow') {
    // Another runner holds the lock: wait for it, then read the tracking row and the baseline again.
    const locked = await beginLocked(session, settings, context, onWait)
    if (locked.isErr()) return failure(fileError(file, locked.error, { phase: 'lock' }))
    const seen = await recheck(session, file, context, settings.direction ?? 'up')
    if (seen.isErr()) return failure(seen.error)
    if (seen.value === 'done') return ok({ status: 'applied-by-other' })
    if (probe !== undefined) {
      try {
        await probe.snapshot(session)
      } catch (error) {
        if (!isServerError(error)) session.broken = true
        else await rollback(session)
        return failure(fileError(file, toRunError(error, site(context, 'statement')), { phase: 'tracking' }))
      }
    }
  }

  let current: ClassifiedStatement | undefined
  const started = performance.now()
  const keeper = settings.keeper?.(file)
  const runs = await runStatements(session, file.statements, context, {
    aftermath: 'rolled-back',
    lockTimeoutMs: settings.lockTimeoutMs,
    observer: {
      before: async (s, statement, index) => {
        current = statement
        await keeper?.before(s, statement, index)
      },
      ...(keeper !== undefined
        ? {
            instead: (s: Session, statement: ClassifiedStatement, index: number) => keeper.instead(s, statement, index),
            after: (s: Session, statement: ClassifiedStatement, index: number) => keeper.after(s, statement, index),
          }
        : {}),
    },
  })
  if (runs.isErr()) {
    if (!session.broken) await rollback(session)
    const index = current === undefined ? undefined : file.statements.indexOf(current)
    const cause = keeper?.failure
    return err({
      error:
        cause !== undefined
          ? new MigrationRunError(
              `Migration ${file.name} was not applied. ${cause.message}`,
              {
                problem: 'statement',
                file: file.name,
                ...(current !== undefined ? { line: current.span.line } : {}),
              },
              { cause },
            )
          : fileError(file, runs.error, { phase: 'statement', statement: current }),
      failedIndex: index,
      runs: [],
    })
  }
  const durationMs = performance.now() - started
  const migration = appliedOf(file, durationMs)
  if (
    probe !== undefined &&
    settings.effects !== undefined &&
    keeper?.kept !== true &&
    !expectsEffects(file.statements)
  ) {
    // Nothing kept for undo: the check, the tracking row and COMMIT in one round trip when the server
    // finds nothing to judge (EffectProbe.measureAndCommit); else judged here, then as below.
    const fast = await fastCommit(session, file, probe, settings.effects, context, recordSql(migration, file, settings))
    if (fast.isErr()) return failure(fast.error)
    if (fast.value === 'committed') return ok({ status: 'applied', migration, runs: runs.value })
  } else if (probe !== undefined && settings.effects !== undefined) {
    const checked = await effectCheck(session, file, probe, settings.effects, context)
    if (checked.isErr()) return failure(checked.error)
  }
  let undo: UndoSummary | undefined
  try {
    await record(session, migration, file, settings)
    undo = await keeper?.finish(session, file.statements, settings.auditIds?.(file) ?? [])
  } catch (error) {
    if (!isServerError(error)) session.broken = true
    else await rollback(session)
    return failure(fileError(file, toRunError(error, site(context, 'statement')), { phase: 'tracking' }))
  }
  const committed = await commit(session, file, context)
  if (committed.isErr()) return failure(committed.error)
  return ok({
    status: 'applied',
    migration: undo !== undefined ? { ...migration, undo } : migration,
    runs: runs.value,
    ...(undo !== undefined ? { undo } : {}),
  })
}

/**
 * The statements of a file that runs outside a transaction, one at a time. A statement Postgres can
 * run in a transaction is sent in one of its own (`BEGIN`, the statement, the effect check,
 * `COMMIT`): what autocommit would do, but measured, so a marker an agent can write in the file
 * (`-- migrate:up transaction:false`, `-- postgres-migrations disable-transaction`) cannot take its
 * statements out of the effect check. Statements that cannot run in a transaction (CREATE INDEX
 * CONCURRENTLY, a CALL of a procedure of the file that commits) are sent alone, unmeasured.
 */
async function runOneByOne(
  session: Session,
  file: PreparedMigration,
  settings: ApplySettings,
  context: RunContext,
  observer: StatementObserver,
): Promise<Result<StatementRun[], RunError | MigrationRunError>> {
  const alone = statementsThatRunAlone(file.statements)
  const runs: StatementRun[] = []
  for (const statement of file.statements) {
    if (alone.has(statement) || settings.effects === undefined) {
      const run = await runStatements(session, [statement], context, {
        aftermath: 'alone',
        lockTimeoutMs: settings.lockTimeoutMs,
        observer,
      })
      if (run.isErr()) return err(run.error)
      runs.push(...run.value)
      continue
    }
    const probe = new EffectProbe()
    try {
      await session.client.query('BEGIN')
      await probe.snapshot(session)
    } catch (error) {
      if (!isServerError(error)) session.broken = true
      else await rollback(session)
      return err(toRunError(error, site(context, 'statement')))
    }
    const run = await runStatements(session, [statement], context, {
      aftermath: 'rolled-back',
      lockTimeoutMs: settings.lockTimeoutMs,
      observer,
    })
    if (run.isErr()) {
      if (!session.broken) await rollback(session)
      return err(run.error)
    }
    const checked = await effectCheck(session, file, probe, settings.effects, context)
    if (checked.isErr()) return err(checked.error)
    try {
      await session.client.query('COMMIT')
    } catch (error) {
      if (!isServerError(error)) session.broken = true
      else await rollback(session)
      return err(toRunError(error, site(context, 'commit')))
    }
    runs.push(...run.value)
  }
  return ok(runs)
}

/**
 * The effect check, the tracking row and COMMIT of a file in one message (see
 * EffectProbe.measureAndCommit): `committed`, or `review` when the check passed on the client and
 * the transaction is still open, without its tracking row. Rolls back when the check fails.
 */
async function fastCommit(
  session: Session,
  file: PreparedMigration,
  probe: EffectProbe,
  limits: EffectLimits,
  context: RunContext,
  tail: string,
): Promise<Result<'committed' | 'review', MigrationRunError>> {
  let fast: Awaited<ReturnType<EffectProbe['measureAndCommit']>>
  try {
    fast = await probe.measureAndCommit(session, tail)
  } catch (error) {
    if (!isServerError(error)) {
      session.broken = true
      // The message held COMMIT: whether it ran is unknown (fileError says so for the commit phase).
      return err(fileError(file, context.connectionError(error), { phase: 'commit' }))
    }
    await rollback(session)
    return err(fileError(file, toRunError(error, site(context, 'statement')), { phase: 'statement' }))
  }
  if (fast.kind === 'commit-failed') {
    await rollback(session)
    return err(fileError(file, toRunError(fast.error, site(context, 'commit')), { phase: 'commit' }))
  }
  if (fast.kind === 'committed') {
    if (fast.command !== 'ROLLBACK') return ok('committed')
    const error = new PostgresError(
      'Postgres error 25P02 at COMMIT: the server rolled the transaction back instead of committing it.',
      { code: '25P02', serverMessage: 'transaction rolled back at COMMIT', phase: 'commit' },
    )
    return err(fileError(file, error, { phase: 'commit' }))
  }
  const checked = await judgeMeasured(session, fast.effects, limits, truncatedNames(file.statements))
  if (checked.isOk()) return ok('review')
  await rollback(session)
  return err(
    new MigrationRunError(
      `Migration ${file.name} was rolled back by the effect check.\n${checked.error.message}`,
      { problem: 'effect', file: file.name },
      { cause: checked.error },
    ),
  )
}

/** The tracking row's statement, for a simple-protocol message. */
function recordSql(migration: AppliedMigration, file: PreparedMigration, settings: ApplySettings): string {
  return settings.direction === 'down'
    ? deleteAppliedSql(file.name)
    : insertAppliedSql({ ...migration, appliedBy: settings.appliedBy }, file.repeatable === true)
}

/** The effect check of one file, before its tracking row and COMMIT; rolls back when it fails. */
async function effectCheck(
  session: Session,
  file: PreparedMigration,
  probe: EffectProbe,
  limits: EffectLimits,
  context: RunContext,
): Promise<Result<void, MigrationRunError>> {
  try {
    const checked = await checkEffects(session, probe, limits, truncatedNames(file.statements))
    if (checked.isOk()) return ok(undefined)
    await rollback(session)
    return err(
      new MigrationRunError(
        `Migration ${file.name} was rolled back by the effect check.\n${checked.error.message}`,
        { problem: 'effect', file: file.name },
        { cause: checked.error },
      ),
    )
  } catch (error) {
    if (!isServerError(error)) session.broken = true
    else await rollback(session)
    return err(fileError(file, toRunError(error, site(context, 'statement')), { phase: 'statement' }))
  }
}

async function applyOutside(
  session: Session,
  file: PreparedMigration,
  settings: ApplySettings,
  context: RunContext,
  onWait: WaitListener,
): Promise<Result<ApplyOutcome, ApplyFailure>> {
  const claimed = await claimFile(session, file, settings, context, onWait)
  if (claimed.isErr()) return failure(claimed.error)
  if (claimed.value === 'applied-by-other') return ok({ status: 'applied-by-other' })

  let saved: { lock: string; statement: string } | undefined
  try {
    const before = await session.client.query<{ lock: string; statement: string }>(
      "SELECT current_setting('lock_timeout') AS lock, current_setting('statement_timeout') AS statement",
    )
    saved = before.rows[0]
    session.dirty = true
    await setSession(session, `${settings.lockTimeoutMs}ms`, `${settings.nonTransactionalStatementTimeoutMs}ms`)
  } catch (error) {
    if (!isServerError(error)) session.broken = true
    await releaseClaim(session, file, settings, context)
    return failure(fileError(file, toRunError(error, site(context, 'settings')), { phase: 'lock' }))
  }

  let current: ClassifiedStatement | undefined
  const ran: StatementRun[] = []
  const started = performance.now()
  const runs = await runOneByOne(session, file, settings, context, {
    before: async (_session, statement) => {
      current = statement
    },
    after: async (_session, _statement, _index, run) => {
      ran.push(run)
    },
  })
  const durationMs = performance.now() - started
  if (saved !== undefined && !session.broken) {
    try {
      await setSession(session, saved.lock, saved.statement)
    } catch {
      // The session is reset (DISCARD ALL) or destroyed when it is released.
    }
  }
  if (runs.isErr()) {
    if (!session.broken) await releaseClaim(session, file, settings, context)
    const index = current === undefined ? undefined : file.statements.indexOf(current)
    return err({
      error:
        runs.error instanceof MigrationRunError
          ? runs.error
          : fileError(file, runs.error, { phase: 'outside', statement: current, ran: ran.length }),
      failedIndex: index,
      runs: ran,
    })
  }

  const migration = appliedOf(file, durationMs)
  const locked = await beginLocked(session, settings, context)
  if (locked.isErr()) {
    return err({
      error: recordLost(file, fileError(file, locked.error, { phase: 'lock' })),
      failedIndex: undefined,
      runs: ran,
    })
  }
  try {
    await record(session, migration, file, settings)
    await deleteClaim(session.client, file.name)
  } catch (error) {
    if (!isServerError(error)) session.broken = true
    else await rollback(session)
    const lost = fileError(file, toRunError(error, site(context, 'statement')), { phase: 'tracking' })
    return err({ error: recordLost(file, lost), failedIndex: undefined, runs: ran })
  }
  const committed = await commit(session, file, context)
  if (committed.isErr()) return err({ error: recordLost(file, committed.error), failedIndex: undefined, runs: ran })
  return ok({ status: 'applied', migration, runs: runs.value })
}

/**
 * Claims a file to run outside a transaction: in a locked transaction, re-reads its tracking row
 * (applied meanwhile: done), then its claim. A claim of a live backend means another runner is at work:
 * wait (polling, at most `waitMs` in all) and look again. A claim of a backend that is gone is a runner
 * that died: it is replaced. Never throws.
 */
async function claimFile(
  session: Session,
  file: PreparedMigration,
  settings: ApplySettings,
  context: RunContext,
  onWait: WaitListener,
): Promise<Result<'claimed' | 'applied-by-other', MigrationRunError>> {
  const deadline = performance.now() + Math.max(0, settings.waitMs)
  const pollMs = settings.pollMs ?? 500
  for (;;) {
    const remaining = Math.max(0, Math.round(deadline - performance.now()))
    const locked = await beginLocked(session, { ...settings, waitMs: remaining }, context, onWait)
    if (locked.isErr()) return err(fileError(file, locked.error, { phase: 'lock' }))
    const seen = await recheck(session, file, context, settings.direction ?? 'up')
    if (seen.isErr()) return err(seen.error.error)
    if (seen.value === 'done') return ok('applied-by-other')
    try {
      await createClaimsTable(session.client)
      const claim = await readClaim(session.client, file.name)
      if (claim?.alive === true) {
        await rollback(session)
        const who = `${claim.claimedBy} (backend pid ${claim.backendPid}) since ${claim.claimedAt.toISOString()}`
        if (performance.now() >= deadline) {
          return err(
            new MigrationRunError(
              `Migration ${file.name} runs outside a transaction and is being applied by another runner: claimed by ${who}. ` +
                `Waited ${formatSeconds(settings.waitMs)}; nothing more was run. Run again when it has finished ` +
                '(CREATE INDEX CONCURRENTLY can take long), or wait longer with --wait SECONDS. If no runner is alive ' +
                '(through a transaction pooler a dead runner cannot be told from a live one), check for an INVALID index ' +
                `(SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid), then delete the claim: ` +
                `DELETE FROM public.ddl_migration_claims WHERE name = '${file.name.replaceAll("'", "''")}'.`,
              { problem: 'claimed', file: file.name },
            ),
          )
        }
        onWait(`${file.name} is being applied by another runner (${who})`)
        await sleep(Math.min(pollMs, Math.max(1, deadline - performance.now())))
        continue
      }
      if (claim !== undefined) {
        onWait(
          `${file.name} was claimed by ${claim.claimedBy} (backend pid ${claim.backendPid}), whose connection is gone: ` +
            'applying it again',
        )
        await deleteClaim(session.client, file.name)
      }
      await insertClaim(session.client, file.name, file.checksum, settings.appliedBy)
    } catch (error) {
      if (!isServerError(error)) session.broken = true
      else await rollback(session)
      return err(fileError(file, toRunError(error, site(context, 'statement')), { phase: 'tracking' }))
    }
    const committed = await commit(session, file, context)
    if (committed.isErr()) return err(committed.error)
    return ok('claimed')
  }
}

/** Removes this runner's claim after a failure, so a rerun need not wait (best effort). */
async function releaseClaim(
  session: Session,
  file: PreparedMigration,
  settings: ApplySettings,
  context: RunContext,
): Promise<void> {
  const locked = await beginLocked(session, settings, context)
  if (locked.isErr()) return
  try {
    await deleteClaim(session.client, file.name)
    await session.client.query('COMMIT')
  } catch (error) {
    if (!isServerError(error)) session.broken = true
    else await rollback(session)
  }
}

/** Writes what the file did to the tracking table: its row inserted (up), or removed (down). */
async function record(
  session: Session,
  migration: AppliedMigration,
  file: PreparedMigration,
  settings: ApplySettings,
): Promise<void> {
  if (settings.direction === 'down') await deleteApplied(session.client, file.name)
  else await insertApplied(session.client, { ...migration, appliedBy: settings.appliedBy }, file.repeatable === true)
}

/**
 * After the lock: the file's tracking row with a fresh snapshot. `run` when the file is still to run
 * (up: no row, or a repeatable whose row has other bytes; down: the row is there); `done` (and the
 * transaction rolled back) when another runner applied (or reverted) it meanwhile; a `checksum` error
 * when that runner applied other bytes.
 */
async function recheck(
  session: Session,
  file: PreparedMigration,
  context: RunContext,
  direction: 'up' | 'down',
): Promise<Result<'run' | 'done', ApplyFailure>> {
  let row: AppliedRow | undefined
  try {
    row = await readAppliedRow(session.client, file.name)
  } catch (error) {
    if (!isServerError(error)) session.broken = true
    else await rollback(session)
    return err({
      error: fileError(file, toRunError(error, site(context, 'statement')), { phase: 'tracking' }),
      failedIndex: undefined,
      runs: [],
    })
  }
  return judgeRow(session, file, row, direction)
}

/** {@link recheck}'s verdict on the row it read. */
async function judgeRow(
  session: Session,
  file: PreparedMigration,
  row: AppliedRow | undefined,
  direction: 'up' | 'down',
): Promise<Result<'run' | 'done', ApplyFailure>> {
  if (direction === 'down') {
    if (row !== undefined) return ok('run')
    await rollback(session)
    return ok('done')
  }
  if (row === undefined) return ok('run')
  if (row.checksum !== file.checksum && file.repeatable === true) return ok('run')
  await rollback(session)
  if (row.checksum === file.checksum) return ok('done')
  return err({
    error: new MigrationRunError(
      `Migration ${file.name} was applied by another runner, from a file with other bytes (checksum ` +
        `${row.checksum.slice(0, 12)}…, this file ${file.checksum.slice(0, 12)}…). Two versions of the migrations ` +
        'are being deployed at once; nothing more was run.',
      { problem: 'checksum', file: file.name },
    ),
    failedIndex: undefined,
    runs: [],
  })
}

async function commit(
  session: Session,
  file: PreparedMigration,
  context: RunContext,
): Promise<Result<void, MigrationRunError>> {
  try {
    const done = await session.client.query('COMMIT')
    if (done.command === 'ROLLBACK') {
      const error = new PostgresError(
        'Postgres error 25P02 at COMMIT: the server rolled the transaction back instead of committing it.',
        { code: '25P02', serverMessage: 'transaction rolled back at COMMIT', phase: 'commit' },
      )
      return err(fileError(file, error, { phase: 'commit' }))
    }
    return ok(undefined)
  } catch (error) {
    if (!isServerError(error)) {
      session.broken = true
      return err(fileError(file, context.connectionError(error), { phase: 'commit' }))
    }
    await rollback(session)
    return err(fileError(file, toRunError(error, site(context, 'commit')), { phase: 'commit' }))
  }
}

function site(context: RunContext, phase: 'statement' | 'settings' | 'commit') {
  return {
    phase,
    aftermath: phase === 'commit' ? ('rolled-back' as const) : ('none' as const),
    secrets: context.secrets,
    connectionError: context.connectionError,
  }
}

async function setSession(session: Session, lockTimeout: string, statementTimeout: string): Promise<void> {
  await session.client.query({
    text: `SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false), ${pinReadingCalls(false)}`,
    values: [lockTimeout, statementTimeout],
  })
}

function appliedOf(file: PreparedMigration, durationMs: number): AppliedMigration {
  return {
    name: file.name,
    path: file.path,
    tier: file.tier,
    transactional: file.transactional,
    statements: file.statements.length,
    strippedTransactionControl: file.stripped.length,
    checksum: file.checksum,
    durationMs: Math.round(durationMs * 10) / 10,
  }
}

function failure(error: MigrationRunError | ApplyFailure): Result<never, ApplyFailure> {
  return err(error instanceof MigrationRunError ? { error, failedIndex: undefined, runs: [] } : error)
}

/** Where in applying a file an error happened, to word it. */
interface ErrorPlace {
  readonly phase: 'lock' | 'statement' | 'outside' | 'tracking' | 'commit'
  readonly statement?: ClassifiedStatement | undefined
  /** For `outside`: statements that ran (and stay) before the failing one. */
  readonly ran?: number
}

/**
 * A failure while applying a file, as a `MigrationRunError` naming the file, the line in the file and
 * the SQLSTATE, and saying what stays applied. Never throws.
 */
export function fileError(
  file: PreparedMigration,
  error: MigrationRunError | RunError,
  place: ErrorPlace,
): MigrationRunError {
  if (error instanceof MigrationRunError) {
    if (error.file !== undefined) return error
    return new MigrationRunError(error.message, { ...fieldsOf(error), file: file.name }, { cause: error.cause })
  }
  const outside = place.phase === 'outside'
  const line = error instanceof PostgresError ? (error.line ?? place.statement?.span.line) : place.statement?.span.line
  const code = error instanceof PostgresError ? error.code : error.code
  const sqlstate = error instanceof PostgresError ? error.code : undefined
  const lost = error instanceof ConnectionError || (code !== undefined && CONNECTION_CODES.test(code))
  const at = line !== undefined ? ` at line ${line}` : place.phase === 'commit' ? ' at COMMIT' : ''
  const state = sqlstate !== undefined ? ` (SQLSTATE ${sqlstate})` : ''
  const what =
    place.phase === 'tracking'
      ? `Recording migration ${file.name} in public.ddl_migrations failed${state}`
      : place.phase === 'lock'
        ? `Migration ${file.name} could not start${state}`
        : `Migration ${file.name} failed${at}${state}`
  const lines = [`${what}.`, error.message]
  if (outside) {
    const ran = place.ran ?? 0
    lines.push(
      `${file.name} runs outside a transaction: ${ran === 0 ? 'no statement of it' : `its first ${ran} statement${ran === 1 ? '' : 's'}`} ` +
        'ran before the failure and stay' +
        `${ran === 1 ? 's' : ''}; it is not recorded as applied. Make the file safe to run again ` +
        '(CREATE INDEX CONCURRENTLY IF NOT EXISTS, DROP INDEX CONCURRENTLY IF EXISTS for an INVALID index), then run again.',
    )
  } else if (lost && place.phase === 'commit') {
    lines.push(
      `The connection was lost during COMMIT: ${file.name} may or may not be applied. Its tracking row commits ` +
        'with it, so ddl migrate status tells which; run again to finish.',
    )
  } else if (lost) {
    lines.push(
      `The connection was lost: the server rolls back the open transaction, so nothing of ${file.name} stays ` +
        'and it is not recorded as applied. Run again to apply it and the rest.',
    )
  } else if (place.phase !== 'lock') {
    lines.push(`Nothing of ${file.name} was applied (it ran in one transaction with its tracking row).`)
  }
  return new MigrationRunError(
    lines.join('\n'),
    {
      problem: lost ? 'connection' : place.phase === 'tracking' ? 'tracking' : 'statement',
      file: file.name,
      line,
      sqlstate,
    },
    { cause: error },
  )
}

function recordLost(file: PreparedMigration, error: MigrationRunError): MigrationRunError {
  return new MigrationRunError(
    `${error.message}\nThe statements of ${file.name} ran (outside a transaction), but it could not be recorded as ` +
      'applied. Make sure its statements are safe to run again (IF NOT EXISTS), then run again.',
    fieldsOf(error),
    { cause: error.cause },
  )
}

function fieldsOf(error: MigrationRunError) {
  return {
    problem: error.problem,
    file: error.file,
    issues: error.issues,
    line: error.line,
    sqlstate: error.sqlstate,
    applied: error.applied,
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
