import { err, type Result, ResultAsync } from 'neverthrow'
import type { ExecutorError } from '../errors.js'
import { createContext, type ExecutorContext, type PostgresAPIOptions } from '../executor-context.js'
import type { GateFlags } from '../gate.js'
import { type MigrateOptions, migrateDirectory, migrateFile, planMigrationRun, readMigrationStatus } from './migrate.js'
import type { MigrationPlan, MigrationReport, MigrationStatus } from './migration-results.js'

/** Options of the standalone functions: where to connect (as `new PostgresAPI(project, options)`), and the run's. */
export interface RunMigrationsOptions extends MigrateOptions, PostgresAPIOptions {
  /** A project of `ddl.config.json`; without one, `url`, else `DDL_DATABASE_URL` / `DATABASE_URL`. */
  readonly project?: string
}

/**
 * Applies the pending migrations of a directory: flat `*.sql` files in natural order (`2_x.sql`
 * before `10_y.sql`) or Prisma's `<timestamp>_<name>/migration.sql`. Every pending file is
 * classified and gated before anything runs; each then runs in its own transaction together with its
 * row in `public.ddl_migrations`, under a transaction-scoped lock that keeps two runners from applying
 * a file twice (through a transaction-mode pooler too). Flags apply to the whole run. Opens one
 * connection and closes it.
 *
 * Fails with `MigrationError` (see `MigrationRunError.problem`), `ConfigError`, `ConnectionError`.
 * Never throws.
 *
 * @example
 * const report = await runMigrationsFromDir('prisma/migrations', { project: 'smoothed', confirm: true })
 * report.match((r) => console.log(r.message), (e) => console.error(e.message))
 */
export function runMigrationsFromDir(
  dir: string,
  options: RunMigrationsOptions = {},
): ResultAsync<MigrationReport, ExecutorError> {
  return withContext(options, (ctx) => migrateDirectory(ctx, dir, options))
}

/**
 * Applies one migration file, tracked in `public.ddl_migrations` like a directory's: skipped when
 * applied, refused when changed since. Fails like {@link runMigrationsFromDir}. Never throws.
 *
 * @example
 * const report = await unwrap(runMigration('migrations/001_add_users_table.sql', { project: 'smoothed' }))
 */
export function runMigration(
  file: string,
  options: RunMigrationsOptions = {},
): ResultAsync<MigrationReport, ExecutorError> {
  return withContext(options, (ctx) => migrateFile(ctx, file, options))
}

/**
 * Where each migration of a directory stands: applied, pending, changed, claimed, missing. Writes
 * nothing. Fails with `MigrationError` (`layout`), `ConfigError`, `ConnectionError`, `PostgresError`.
 * Never throws.
 *
 * @example
 * const status = await unwrap(migrationStatus('migrations', { project: 'smoothed' }))
 */
export function migrationStatus(
  dir: string,
  options: RunMigrationsOptions = {},
): ResultAsync<MigrationStatus, ExecutorError> {
  return withContext(options, (ctx) => readMigrationStatus(ctx, dir))
}

/**
 * What a run would do with these flags, running nothing: each pending file's tier, findings, the flag
 * it needs, and whether it runs in a transaction. Fails like {@link migrationStatus}. Never throws.
 *
 * @example
 * const plan = await unwrap(planMigrations('migrations', { confirm: true }))
 */
export function planMigrations(
  dir: string,
  options: RunMigrationsOptions & GateFlags = {},
): ResultAsync<MigrationPlan, ExecutorError> {
  return withContext(options, (ctx) => planMigrationRun(ctx, dir, options))
}

function withContext<T>(
  options: RunMigrationsOptions,
  work: (ctx: ExecutorContext) => Promise<Result<T, ExecutorError>>,
): ResultAsync<T, ExecutorError> {
  const created = createContext(options.project, options)
  if (created.isErr()) return new ResultAsync(Promise.resolve(err(created.error)))
  const ctx = created.value
  return new ResultAsync(
    (async () => {
      try {
        return await work(ctx)
      } finally {
        await ctx.close()
      }
    })(),
  )
}
