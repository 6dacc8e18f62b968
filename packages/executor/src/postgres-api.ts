import { err, ok, type Result, ResultAsync } from 'neverthrow'
import type pg from 'pg'
import { type ConfigError, type ExecutorError, InputError, PostgresError, type TransactionError } from './errors.js'
import { type ExecuteOptions, executeSql, withSession } from './execute.js'
import { createContext, type ExecutorContext, type PostgresAPIOptions, runContextOf } from './executor-context.js'
import { type MigrateOptions, migrateDirectory, migrateFile } from './migrations/migrate.js'
import type { MigrationReport } from './migrations/migration-results.js'
import { querySql } from './query.js'
import type { DryRunResult, ExecuteOutcome, ExecuteResult, QueryResult, RehearsalResult, Row } from './results.js'
import { inspectTable, listRelations, relationExists, type TableSchema, type TableSummary } from './schema-inspector.js'
import { toRunError } from './statement-runner.js'
import { runTransaction, type TransactionCallback } from './transaction.js'
import type { UndoEntry } from './undo/undo-restore.js'
import { listUndo, purgeUndo, type UndoOptions, type UndoResult, undoRun } from './undo/undo-run.js'

/**
 * Direct Postgres access for schema work, with the safety tiers: every statement is classified,
 * gated, run in a transaction and audited. Every method returns a `ResultAsync` and never throws
 * (wrap one in {@link unwrap} to throw, as scripts like to). Nothing connects until a method needs
 * the database; a dry run never does.
 *
 * The project name resolves through `ddl.config.json` (`"projects": { "smoothed": "SUPABASE_POSTGRES_URL" }`);
 * without one, `DDL_DATABASE_URL` then `DATABASE_URL` are used. `.env` is read without overriding
 * the environment. See docs/configuration.md.
 *
 * @example
 * const db = new PostgresAPI('smoothed')
 * const exists = await unwrap(db.tableExists('campaigns'))
 * if (!exists) await unwrap(db.execute('CREATE TABLE campaigns (id uuid PRIMARY KEY DEFAULT gen_random_uuid())'))
 * await db.close()
 */
export class PostgresAPI {
  readonly #project: string | undefined
  readonly #options: PostgresAPIOptions
  #context: Result<ExecutorContext, ConfigError> | undefined

  /**
   * @param project a project of `ddl.config.json`, or nothing for `DDL_DATABASE_URL` / `DATABASE_URL`.
   * Configuration errors (unknown project, malformed config) come back from the first call, as `ConfigError`.
   */
  constructor(project?: string, options: PostgresAPIOptions = {}) {
    this.#project = project
    this.#options = options
  }

  /** The project name, or `'default'`. */
  get project(): string {
    return this.#project ?? 'default'
  }

  /**
   * The resolved context (configuration, timeouts, audit log, connection), created once.
   * For engines built on this class (migrations). Fails with `ConfigError`. Never throws.
   */
  context(): Result<ExecutorContext, ConfigError> {
    if (this.#context === undefined) this.#context = createContext(this.#project, this.#options)
    return this.#context
  }

  /**
   * Classifies SQL, gates it on its tier and the flags, records the audit intent (fsynced) before
   * sending anything, runs every statement alone and byte for byte in one transaction under
   * `SET LOCAL lock_timeout`/`statement_timeout`, commits, and records the outcome.
   * `safe` runs as is; `cautious` needs `confirm: true`; `destructive` needs `iKnowWhatImDoing: true`.
   * `dryRun: true` classifies only (no database); `rehearse: true` runs and always rolls back,
   * reporting rows, locks, rewrites and cascades.
   *
   * Fails with `SafetyError` (refused: nothing sent), `ParseError`, `InputError` (empty, NUL byte, ...),
   * `ConfigError`, `AuditError` (intent not written: nothing sent), `ConnectionError`, or
   * `PostgresError` (rolled back; SQLSTATE, detail, hint, line). Never throws.
   *
   * @example
   * await unwrap(db.execute('ALTER TABLE users ADD COLUMN phone text'))
   * await unwrap(db.execute('TRUNCATE test_data', { confirm: true }))
   * await unwrap(db.execute('DROP TABLE old_backup', { iKnowWhatImDoing: true }))
   * const plan = await unwrap(db.execute('CREATE TABLE test (id int)', { dryRun: true })) // message: "[DRY RUN] Would execute: ..."
   */
  execute(sql: string, options: ExecuteOptions & { readonly dryRun: true }): ResultAsync<DryRunResult, ExecutorError>
  execute(
    sql: string,
    options: ExecuteOptions & { readonly rehearse: true },
  ): ResultAsync<RehearsalResult, ExecutorError>
  execute(
    sql: string,
    options?: ExecuteOptions & { readonly dryRun?: false; readonly rehearse?: false },
  ): ResultAsync<ExecuteResult, ExecutorError>
  execute(sql: string, options?: ExecuteOptions): ResultAsync<ExecuteOutcome, ExecutorError>
  execute(sql: string, options: ExecuteOptions = {}): ResultAsync<ExecuteOutcome, ExecutorError> {
    return this.#withContext((ctx) => executeSql(ctx, sql, options))
  }

  /**
   * Runs one read (SELECT, VALUES, TABLE, SHOW, EXPLAIN) with `params` bound to `$1, $2, ...`,
   * inside a READ ONLY transaction, so the server refuses any write a function attempts. A statement
   * the classifier sees writing is refused before sending (`SafetyError`, reason `write-in-query`).
   * Fails also with `ParseError`, `InputError`, `ConfigError`, `ConnectionError`, `PostgresError`.
   * Never throws.
   *
   * @example
   * const { rows } = await unwrap(db.query<{ count: string }>("SELECT count(*) FROM users WHERE created_at > $1", ['2026-01-01']))
   */
  query<R extends Row = Row>(sql: string, params: readonly unknown[] = []): ResultAsync<QueryResult<R>, ExecutorError> {
    return this.#withContext((ctx) => querySql<R>(ctx, sql, params))
  }

  /**
   * Runs the callback in one transaction on one connection: each `tx.execute` is gated and audited;
   * all commit together when the callback returns, or none do (ROLLBACK on any `Err`, failed call or
   * throw). Resolves to the callback's value. Fails with any `ExecutorError`, or `CallbackError` for
   * a throw of another kind. Never throws.
   *
   * @example
   * await unwrap(db.transaction(async (tx) => {
   *   await unwrap(tx.execute('CREATE TABLE orders (id uuid PRIMARY KEY)'))
   *   await unwrap(tx.execute('CREATE TABLE order_items (id uuid, order_id uuid REFERENCES orders)'))
   *   await unwrap(tx.execute('CREATE INDEX order_items_order_idx ON order_items(order_id)'))
   * }))
   */
  transaction<T, E = never>(fn: TransactionCallback<T, E>): ResultAsync<T, TransactionError | E> {
    const ctx = this.context()
    if (ctx.isErr()) return failed(ctx.error)
    return new ResultAsync(runTransaction(ctx.value, fn))
  }

  /**
   * The structure of a table, view or materialized view: columns (name, type, nullable, default),
   * indexes and constraints. `table` is written as in SQL (`users`, `public.users`, `"Odd Name"`).
   * Fails with `PostgresError` `42P01` when there is no such relation, and with `ConfigError`,
   * `ConnectionError`, `InputError`. Never throws.
   *
   * @example
   * const schema = await unwrap(db.getSchema('users'))
   * for (const col of schema) console.log(`${col.name}: ${col.type}`)
   */
  getSchema(table: string): ResultAsync<TableSchema, ExecutorError> {
    return this.#inspect(table, async (client) => {
      const schema = await inspectTable(client, table)
      if (schema !== undefined) return ok(schema)
      return err(
        new PostgresError(
          `Postgres error 42P01: relation ${JSON.stringify(table)} does not exist.\n` +
            'Check the name (schema-qualify it or quote it as in SQL); `ddl schema` lists the tables.',
          {
            code: '42P01',
            serverMessage: `relation ${JSON.stringify(table)} does not exist`,
            phase: 'inspect',
            advice: '`ddl schema` lists the tables.',
          },
        ),
      )
    })
  }

  /**
   * True when `table` names an existing table, view, materialized view or foreign table. Names are
   * read as SQL reads them: `campaigns` (on the search path), `public.campaigns`, `"Mixed Case"`.
   * Fails with `ConfigError`, `ConnectionError`, `InputError`, or `PostgresError` for a malformed
   * name on servers before 16. Never throws.
   *
   * @example
   * if (!(await unwrap(db.tableExists('campaigns')))) { ... }
   */
  tableExists(table: string): ResultAsync<boolean, ExecutorError> {
    return this.#inspect(table, async (client) => ok(await relationExists(client, table)))
  }

  /**
   * Every table, view and materialized view outside Postgres's own schemas, `public` first. Fails with
   * `ConfigError`, `ConnectionError`, `PostgresError`. Never throws.
   */
  listTables(): ResultAsync<TableSummary[], ExecutorError> {
    return this.#inspect(undefined, async (client) => ok(await listRelations(client)))
  }

  /**
   * Applies one migration file, tracked in `public.ddl_migrations`: skipped when applied, refused
   * when changed since (unless accepted), gated on its tier, run in one transaction with its tracking
   * row. Fails with `MigrationError` (a `MigrationRunError`), `ConfigError`, `ConnectionError`. Never throws.
   *
   * @example
   * const report = await unwrap(db.runMigration('migrations/001_add_users_table.sql'))
   * console.log(report.message)
   */
  runMigration(file: string, options: MigrateOptions = {}): ResultAsync<MigrationReport, ExecutorError> {
    return this.#withContext((ctx) => migrateFile(ctx, file, options))
  }

  /**
   * Applies the pending migrations of a directory (flat `*.sql` in natural order, or Prisma folders),
   * one transaction per file, after gating every pending file; two runners never apply a file twice.
   * See docs/migrations.md. Fails like {@link PostgresAPI.runMigration}. Never throws.
   *
   * @example
   * const report = await unwrap(db.runMigrationsFromDir('migrations/', { confirm: true }))
   * console.log(report.message)
   */
  runMigrationsFromDir(dir: string, options: MigrateOptions = {}): ResultAsync<MigrationReport, ExecutorError> {
    return this.#withContext((ctx) => migrateDirectory(ctx, dir, options))
  }

  /**
   * Puts back what run `id` removed (its `result.undo.id`), as it was just before that run, in one
   * transaction; gated (`iKnowWhatImDoing: true`) and audited like any run. Refused whole, nothing
   * restored, when later changes conflict (`UndoError` `conflict`, listing them). See docs/undo.md.
   * Fails with `UndoError`, `AuditError`, `ConfigError`, `ConnectionError`, `PostgresError`. Never throws.
   *
   * @example
   * const run = await unwrap(db.execute('DELETE FROM orders WHERE id < 10', { confirm: true }))
   * await unwrap(db.undo(run.undo!.id, { iKnowWhatImDoing: true }))
   */
  undo(id: string, options: UndoOptions = {}): ResultAsync<UndoResult, ExecutorError> {
    return this.#withContext((ctx) => undoRun(ctx, id, options))
  }

  /** Every kept run (newest first): id, when, who, statements, objects, rows, size. Never throws. */
  listUndo(): ResultAsync<UndoEntry[], ExecutorError> {
    return this.#withContext((ctx) => listUndo(ctx))
  }

  /**
   * Drops kept copies older than `olderThanMs` (default: `undo.retentionDays`, 7 days); audited.
   * Fails with `UndoError`, `AuditError`, `ConnectionError`, `PostgresError`. Never throws.
   */
  purgeUndo(olderThanMs?: number): ResultAsync<{ readonly purged: readonly string[] }, ExecutorError> {
    return this.#withContext((ctx) => purgeUndo(ctx, olderThanMs))
  }

  /** Closes the connections. Later calls fail with `ConfigError`. Never fails. */
  close(): ResultAsync<void, never> {
    const ctx = this.context()
    return ResultAsync.fromSafePromise(ctx.isOk() ? ctx.value.close() : Promise.resolve())
  }

  #withContext<T>(fn: (ctx: ExecutorContext) => Promise<Result<T, ExecutorError>>): ResultAsync<T, ExecutorError> {
    const ctx = this.context()
    if (ctx.isErr()) return failed(ctx.error)
    return new ResultAsync(fn(ctx.value))
  }

  #inspect<T>(
    table: string | undefined,
    fn: (client: pg.PoolClient) => Promise<Result<T, ExecutorError>>,
  ): ResultAsync<T, ExecutorError> {
    if (table !== undefined && (typeof table !== 'string' || table.trim() === '' || table.includes('\u0000'))) {
      return failed(new InputError('Give a table name, e.g. "users" or "public.users".', { problem: 'options' }))
    }
    return this.#withContext(async (ctx) => {
      const connector = ctx.connector()
      if (connector.isErr()) return err(connector.error)
      const context = runContextOf(connector.value)
      return withSession(connector.value, async (session) => {
        // Inspection sends only the inspector's own reads, but resets the session like every call.
        session.dirty = true
        try {
          return await fn(session.client)
        } catch (error) {
          return err(
            toRunError(error, {
              phase: 'inspect',
              aftermath: 'none',
              secrets: context.secrets,
              connectionError: context.connectionError,
            }),
          )
        }
      })
    })
  }
}

function failed<T, E>(error: E): ResultAsync<T, E> {
  return new ResultAsync(Promise.resolve(err(error)))
}
