/**
 * `@ddl/executor/internal`: everything the other safe-ddl packages (the CLI, the MCP server, schema
 * diff) build on: sessions, the plan runner, the gate's parts, audit helpers. Not a stable API: it
 * changes with them. Applications use `@ddl/executor` (see index.ts); this module re-exports it and
 * adds the rest.
 */

export type { AuditedStatement, AuditScope, OutcomeDetails } from './audit-trail.js'
export { auditEntry, auditFlags, auditIds, recordAll } from './audit-trail.js'
export { classifySql } from './classify-sql.js'
export { allowEffectsProblem, loadEnv, maxRowsProblem, parseConfig, resolveTimeouts, resolveUndo } from './config.js'
export type { ConnectionSettings, SslMode } from './connection.js'
export { Connector, connectionSettings } from './connection.js'
export { displayStatement } from './display.js'
export { dryRun } from './dry-run.js'
export type { EffectLimits } from './effect-check.js'
export { ALLOWABLE_EFFECTS, allowedTier, effectLines, effectTier, NO_EFFECTS } from './effect-check.js'
export { auditError, executeSql, policyNotes, recordOutcomes, scopeOf, withSession } from './execute.js'
export type { ExecutorContext } from './executor-context.js'
export { createContext, runContextOf } from './executor-context.js'
export type { FlagStyle, GateContext, GateFlags } from './gate.js'
export {
  checkNonTransactional,
  checkParsed,
  checkRehearsable,
  checkTier,
  checkTransactionControl,
  formatTierRefusal,
  gatePlan,
  renderSafetyError,
} from './gate.js'
export * from './index.js'
export {
  DEFAULT_MIGRATION_WAIT_MS,
  migrateDirectory,
  migrateDown,
  migrateFile,
  planMigrationRun,
  readMigrationStatus,
} from './migrations/migrate.js'

export type { DownEntry, MigrationEntry, MigrationSource } from './migrations/migration-layout.js'
export { compareMigrationNames, describeLayout, findMigrations, looksLikeDown } from './migrations/migration-layout.js'
export { RUNNER_LOCK_KEY } from './migrations/migration-lock.js'

export type { SectionDialect, SelectedPart } from './migrations/migration-sections.js'
export { detectDialect, selectPart } from './migrations/migration-sections.js'
export { migrationStatus, planMigrations, runMigration, runMigrationsFromDir } from './migrations/run-migrations.js'
export { CLAIMS_TABLE, TRACKING_TABLE } from './migrations/tracking-table.js'
export { stripTransactionBlocks } from './migrations/transaction-blocks.js'

export type { EffectivePolicy, LoweringPart, PolicyApproval } from './pinned-policy.js'
export {
  effectivePolicy,
  POLICY_APPROVAL_SOURCE,
  policyApprovalEntry,
  policyHash,
  readPolicyApprovals,
  splitPolicy,
} from './pinned-policy.js'

export type {
  PlanRun,
  PlanRunOptions,
  RunContext,
  RunError,
  StatementObserver,
  TransactionSettings,
} from './plan-runner.js'
export { inTransaction, rollback, runPlan, runStatements } from './plan-runner.js'
export { checkRead, querySql } from './query.js'
export { redactUrl } from './redact.js'

export type { RehearsalSettings } from './rehearsal.js'
export { rehearsePlan } from './rehearsal.js'

export type { ConnectionTarget } from './resolve-connection.js'
export { DEFAULT_URL_VARIABLES, resolveConnection } from './resolve-connection.js'

export type { Session } from './session.js'
export { openSession, releaseSession } from './session.js'
export { checkSqlText, decodeSql, lineColumn, readSqlFile } from './sql-input.js'
export { isServerError, sendStatement, toRunError } from './statement-runner.js'
export { runTransaction } from './transaction.js'
export { parseAge } from './undo/undo-run.js'
export { UNDO_SCHEMA } from './undo/undo-store.js'
