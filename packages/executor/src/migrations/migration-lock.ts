import { err, ok, type Result } from 'neverthrow'
import type { RunContext, RunError } from '../plan-runner.js'
import { rollback } from '../plan-runner.js'
import { pinReadingCalls } from '../reading-settings.js'
import type { Session } from '../session.js'
import { isServerError, toRunError } from '../statement-runner.js'
import { MigrationRunError } from './migration-error.js'

/**
 * The key of the runners' lock: `pg_advisory_xact_lock(8314038972764679277)` (the bytes of
 * `safeddlm`). Advisory locks are per database, so runners on different databases never wait on
 * each other.
 */
export const RUNNER_LOCK_KEY = '8314038972764679277'

/** How a migration transaction waits and runs. */
export interface LockSettings {
  /** How long to wait for another runner's lock, in ms (0: do not wait). */
  readonly waitMs: number
  /** `lock_timeout` for the file's statements, in ms (0: none). */
  readonly lockTimeoutMs: number
  /** `statement_timeout` for the file's statements, in ms (0: none). */
  readonly statementTimeoutMs: number
}

async function setLocal(session: Session, lockTimeoutMs: number, statementTimeoutMs: number): Promise<void> {
  await session.client.query({
    text: `SELECT set_config('lock_timeout', $1, true), set_config('statement_timeout', $2, true), ${pinReadingCalls(true)}`,
    values: [`${Math.trunc(lockTimeoutMs)}ms`, `${Math.trunc(statementTimeoutMs)}ms`],
  })
}

/**
 * Opens a migration transaction and takes the runners' lock in it:
 * `BEGIN ISOLATION LEVEL READ COMMITTED`, `pg_try_advisory_xact_lock`; when another runner holds it,
 * `onWait` is told and `pg_advisory_xact_lock` waits under a `lock_timeout` of the wait (no wait: fail
 * at once); then `SET LOCAL lock_timeout` and `statement_timeout`
 * for the file. The lock is held until COMMIT or ROLLBACK; being transaction-scoped, it holds through
 * a transaction-mode pooler (PgBouncer, Supavisor on port 6543), where a session lock would not.
 * READ COMMITTED makes every later statement see what other runners committed before the lock was
 * granted, so the caller re-reads the tracking table after this returns.
 *
 * Fails with `MigrationRunError` (`locked`) when the wait runs out, or with the `RunError` of the
 * server; the transaction is then rolled back. Never throws.
 */
export async function beginLocked(
  session: Session,
  settings: LockSettings,
  context: RunContext,
  onWait: (reason: string) => void = () => undefined,
): Promise<Result<void, MigrationRunError | RunError>> {
  const site = (phase: 'begin' | 'settings') => ({
    phase,
    aftermath: 'none' as const,
    secrets: context.secrets,
    connectionError: context.connectionError,
  })
  try {
    await session.client.query('BEGIN ISOLATION LEVEL READ COMMITTED')
  } catch (error) {
    session.broken = true
    return err(toRunError(error, site('begin')))
  }
  try {
    const tried = await session.client.query<{ locked: boolean }>({
      text: 'SELECT pg_try_advisory_xact_lock($1::bigint) AS locked',
      values: [RUNNER_LOCK_KEY],
    })
    if (tried.rows[0]?.locked !== true) {
      const holder = await lockHolder(session)
      if (settings.waitMs <= 0) {
        await rollback(session)
        return err(lockedError(0, holder))
      }
      const who = holder !== undefined ? ` (${holder})` : ''
      onWait(`another runner holds the migration lock${who}; waiting up to ${formatSeconds(settings.waitMs)}`)
      await setLocal(session, settings.waitMs, 0)
      await session.client.query({ text: 'SELECT pg_advisory_xact_lock($1::bigint)', values: [RUNNER_LOCK_KEY] })
    }
    await setLocal(session, settings.lockTimeoutMs, settings.statementTimeoutMs)
    return ok(undefined)
  } catch (error) {
    if (isServerError(error) && error.code === '55P03') {
      await rollback(session)
      const holder = await lockHolder(session)
      return err(lockedError(settings.waitMs, holder))
    }
    if (!isServerError(error)) session.broken = true
    else await rollback(session)
    return err(toRunError(error, site('settings')))
  }
}

/** Who holds the runners' lock, for the message (best effort: `undefined` when unknown). */
async function lockHolder(session: Session): Promise<string | undefined> {
  try {
    const result = await session.client.query<{ pid: number; app: string | null; since: Date | null }>({
      text: `SELECT l.pid, a.application_name AS app, a.xact_start AS since
FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint AND l.objsubid = 1
  AND l.pid <> pg_backend_pid()
LIMIT 1`,
      values: [RUNNER_LOCK_KEY],
    })
    const row = result.rows[0]
    if (row === undefined) return undefined
    const app = row.app !== null && row.app !== '' ? ` (${row.app})` : ''
    const since = row.since !== null ? `, in a transaction since ${row.since.toISOString()}` : ''
    return `backend pid ${row.pid}${app}${since}`
  } catch {
    return undefined
  }
}

function lockedError(waitMs: number, holder: string | undefined): MigrationRunError {
  const who = holder !== undefined ? ` (held by ${holder})` : ''
  const waited = waitMs <= 0 ? 'and waiting was turned off' : `for more than ${formatSeconds(waitMs)}`
  return new MigrationRunError(
    `Another migration runner is applying migrations to this database${who}, ${waited}. Nothing more was run. ` +
      'Run again when it has finished (files it applies are skipped), or wait longer with --wait SECONDS ' +
      '(waitMs in the API).',
    { problem: 'locked', sqlstate: '55P03' },
  )
}

/** `1.5 s`, `60 s`. Never throws. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`
}
