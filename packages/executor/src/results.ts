import type { Finding, LockMode, Plan, RequiredFlag, Tier } from '@ddl/classifier'
import type { MeasuredEffects } from './effect-check.js'
import type { UndoSummary } from './undo/undo-items.js'

/** A row as node-postgres returns it. */
export type Row = Record<string, unknown>

/** What one statement did on the server. */
export interface StatementRun {
  /** 0-based position in the script. */
  readonly index: number
  /** 1-based line of the statement in the caller's SQL. */
  readonly line: number
  /** The statement, redacted and cut for display. */
  readonly statement: string
  readonly kind: string
  readonly tier: Tier
  readonly findings: readonly Finding[]
  /** The server's command tag (`CREATE TABLE`, `DELETE`, ...). */
  readonly command: string | null
  /** Rows affected or returned, when the command reports a count. */
  readonly rowCount: number | null
  /** Rows returned (`RETURNING`, `SELECT`); empty for DDL. */
  readonly rows: readonly Row[]
  readonly durationMs: number
}

/** `execute()` ran and committed the script. */
export interface ExecuteResult {
  readonly mode: 'executed'
  /** The project name, or `'default'`. */
  readonly project: string
  readonly tier: Tier
  /**
   * True when the script ran in one transaction (the usual case); false when a single statement that
   * Postgres cannot run in a transaction (CREATE INDEX CONCURRENTLY, VACUUM) ran alone outside one.
   */
  readonly inTransaction: boolean
  readonly statements: readonly StatementRun[]
  readonly durationMs: number
  /** A short report for people (`Committed 2 statements (SAFE) in 12 ms`). */
  readonly message: string
  /**
   * What the effect check measured before COMMIT (rows deleted, updated, inserted per pre-existing
   * table, ...); absent for a statement run alone outside a transaction.
   */
  readonly effects?: MeasuredEffects
  /** Things that went wrong after the work was done (an audit outcome that could not be written). */
  readonly warnings: readonly string[]
  /** Present when something the run removed was kept: `ddl undo <undo.id>` puts it back. */
  readonly undo?: UndoSummary
}

/** `execute(sql, { dryRun: true })`: the plan, nothing sent, no database needed. */
export interface DryRunResult {
  readonly mode: 'dry-run'
  readonly project: string
  readonly plan: Plan
  readonly tier: Tier
  /** What the caller must pass for it to run. */
  readonly requires: RequiredFlag
  /** Every finding of every statement, with its line. */
  readonly findings: readonly (Finding & { readonly line: number })[]
  /** True when the flags given would let it run. */
  readonly wouldRun: boolean
  /** Why it would be refused, when it would be. */
  readonly refusal: string | undefined
  /** `[DRY RUN] Would execute: ...`, `Classification: SAFE`, `No changes made`. */
  readonly message: string
  readonly warnings: readonly string[]
}

/** A relation lock a rehearsed statement actually took (from `pg_locks`). */
export interface TakenLock {
  readonly relation: string
  readonly mode: LockMode | string
}

/** What one rehearsed statement did before everything was rolled back. */
export interface RehearsedStatement extends StatementRun {
  /** False for a statement that cannot run in a transaction: it was not rehearsed. */
  readonly rehearsed: boolean
  /** Relation locks this statement took that were not held before it. */
  readonly locks: readonly TakenLock[]
  /** Tables and indexes whose storage was rewritten (their relfilenode changed). */
  readonly rewritten: readonly string[]
  readonly created: readonly string[]
  readonly dropped: readonly string[]
  /** Rows each table named in a DROP TABLE / DROP MATERIALIZED VIEW held (they would go with it). */
  readonly droppedRows: readonly { readonly relation: string; readonly rows: number }[]
  /** Rows each table would lose to TRUNCATE (with CASCADE, every table it reaches). */
  readonly truncated: readonly { readonly relation: string; readonly rows: number }[]
  /** Objects that DROP/TRUNCATE ... CASCADE would take too, beyond the named ones (from `pg_depend`). */
  readonly cascades: readonly string[]
  /** Why it was not rehearsed, when it was not. */
  readonly note: string | undefined
}

/** `execute(sql, { rehearse: true })`: ran in a transaction that was always rolled back. */
export interface RehearsalResult {
  readonly mode: 'rehearsal'
  readonly project: string
  readonly tier: Tier
  readonly requires: RequiredFlag
  readonly statements: readonly RehearsedStatement[]
  readonly rolledBack: true
  /**
   * What the server measured the rehearsal doing, before the rollback: rows per table (cascades
   * included), tables emptied or dropped, triggers disabled, guards lifted, sequences advanced. Pass
   * it as `expectedEffects` to hold the real run to it.
   */
  readonly effects: MeasuredEffects
  /** The tier the measured effects need; higher than {@link tier} when the text hid something. */
  readonly effectTier: Tier
  /**
   * What the rollback did not undo, one line each: sequences advanced, calls that act outside the
   * transaction (dblink, signals), NOTIFY. Empty when the rehearsal left the database as it was.
   */
  readonly notUndone: readonly string[]
  readonly durationMs: number
  readonly message: string
  readonly warnings: readonly string[]
}

/** Any result of `execute()`. Switch on `mode`. */
export type ExecuteOutcome = ExecuteResult | DryRunResult | RehearsalResult

/** A column of a query result. */
export interface QueryField {
  readonly name: string
  /** The type's OID (`pg_type.oid`). */
  readonly dataTypeID: number
}

/** What `query()` returns. */
export interface QueryResult<R extends Row = Row> {
  readonly rows: readonly R[]
  readonly rowCount: number
  readonly fields: readonly QueryField[]
  readonly command: string
}
