/**
 * `@ddl/executor`: {@link PostgresAPI}, the design's API for changing Postgres from code: every
 * statement classified, gated, run in a transaction and audited. Its results, errors, `unwrap` and
 * configuration types are the public surface; what the CLI and the MCP server build on lives in
 * `@ddl/executor/internal` and is not a stable API.
 */
export type { DdlConfig, Env, LoadedConfig, Timeouts, UndoConfig, UndoSettings } from './config.js'
export { CONFIG_FILE, DEFAULT_TIMEOUTS, DEFAULT_UNDO, loadConfig } from './config.js'
export type {
  AllowableEffect,
  AllowedEffect,
  DisabledObject,
  EffectKind,
  EffectViolation,
  GuardChange,
  MeasuredEffects,
  SequenceMove,
  TableEffect,
} from './effect-check.js'
export type {
  ExecutorError,
  InputProblem,
  PostgresPhase,
  RefusedEffect,
  RefusedStatement,
  SafetyReason,
  TransactionError,
} from './errors.js'
export {
  CallbackError,
  ConfigError,
  ConnectionError,
  InputError,
  isExecutorError,
  MigrationError,
  ParseError,
  PostgresError,
  SafetyError,
} from './errors.js'
export type { ExecuteOptions } from './execute.js'
export type { PostgresAPIOptions } from './executor-context.js'
export type { MigrateDownOptions, MigrateOptions } from './migrations/migrate.js'
export type { MigrationIssue, MigrationIssueReason, MigrationProblem } from './migrations/migration-error.js'
export { MigrationRunError } from './migrations/migration-error.js'
export type { MigrationLayout } from './migrations/migration-layout.js'
export type {
  AcceptedChange,
  AppliedMigration,
  MigrationEvent,
  MigrationPlan,
  MigrationReport,
  MigrationState,
  MigrationStatus,
  MigrationStatusEntry,
  PlannedMigration,
} from './migrations/migration-results.js'
export type { RunMigrationsOptions } from './migrations/run-migrations.js'
export { PostgresAPI } from './postgres-api.js'
export type {
  DryRunResult,
  ExecuteOutcome,
  ExecuteResult,
  QueryField,
  QueryResult,
  RehearsalResult,
  RehearsedStatement,
  Row,
  StatementRun,
  TakenLock,
} from './results.js'
export type {
  ColumnInfo,
  ConstraintInfo,
  ConstraintType,
  IndexInfo,
  RelationKind,
  TableSchema,
  TableSummary,
} from './schema-inspector.js'
export type { TransactionCallback, TransactionExecuteOptions } from './transaction.js'
export { Transaction } from './transaction.js'
export type { UndoProblem } from './undo/undo-error.js'
export { UndoError } from './undo/undo-error.js'
export type { UndoSummary } from './undo/undo-items.js'
export type { UndoEntry, UndoRestore } from './undo/undo-restore.js'
export type { UndoFlags, UndoOptions, UndoResult } from './undo/undo-run.js'
export { unwrap } from './unwrap.js'
