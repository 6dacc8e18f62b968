import type { RequiredFlag, Tier } from '@ddl/classifier'
import { MigrationError } from '../errors.js'

/**
 * What stopped a migration run.
 *
 * - `layout`: the directory holds no migrations, or both layouts, or cannot be read.
 * - `refused`: the gate refused pending files before anything ran (a flag not given, transaction
 *   control, a file mixing statements that cannot run in a transaction with others, SQL that does
 *   not parse); see {@link MigrationRunError.issues}.
 * - `checksum`: an applied file changed since it was applied (and was not accepted).
 * - `statement`: a statement of a file failed on the server; the file was rolled back.
 * - `connection`: the connection was lost while a file ran.
 * - `locked`: another runner held the migration lock longer than the wait allowed.
 * - `claimed`: another runner is applying a file that runs outside a transaction.
 * - `tracking`: the tracking table could not be created, read or written.
 * - `audit`: the audit intent could not be written, so the file was not run.
 * - `options`: the options do not make sense (an unknown name to accept, a bad timeout).
 * - `effect`: the effect check rolled a file back: what the server measured it doing (rows deleted
 *   or updated, a table emptied or dropped, a guard lifted) needs a flag the run did not pass, or
 *   exceeds `maxRows`; the `SafetyError` is its `cause`.
 * - `interrupted`: the run was asked to stop (`signal`, Ctrl-C): the running statement was cancelled
 *   and its file rolled back (or, outside a transaction, what ran stays), and no later file ran.
 */
export type MigrationProblem =
  | 'layout'
  | 'refused'
  | 'checksum'
  | 'statement'
  | 'connection'
  | 'locked'
  | 'claimed'
  | 'tracking'
  | 'audit'
  | 'options'
  | 'interrupted'
  | 'effect'

/** Why the gate refused one file. */
export type MigrationIssueReason =
  | 'tier'
  | 'transaction-control'
  | 'mixed'
  | 'parse'
  | 'input'
  | 'checksum'
  /** The file's up/down sections cannot be told apart (dbmate, node-pg-migrate). */
  | 'section'
  /** A DO block or function runs a statement Postgres refuses in any function (CREATE INDEX CONCURRENTLY, VACUUM). */
  | 'body'

/** One file the gate refused, and why. */
export interface MigrationIssue {
  /** The migration's name (`2_users.sql`, or the Prisma folder `20240101000000_init`). */
  readonly name: string
  readonly path: string
  readonly reason: MigrationIssueReason
  /** The file's tier (for `tier`). */
  readonly tier?: Tier
  /** The flag the file needs (for `tier`). */
  readonly requires?: RequiredFlag
  /** 1-based line in the file of the statement at fault, when there is one. */
  readonly line?: number
  /** One line for a person: what is wrong and what to do. */
  readonly message: string
}

/**
 * A {@link MigrationError} with the details of what stopped the run: the `problem`, each refused
 * file (`issues`), the failing line and SQLSTATE, and what this run had applied before it stopped.
 * Its `kind` is `'MigrationError'`; the original error (a `PostgresError`, `ConnectionError`,
 * `AuditError`) is its `cause`.
 *
 * @example
 * // Migration 2_orders.sql failed at line 3 (SQLSTATE 42P01): relation "customers" does not exist
 * if (error.kind === 'MigrationError' && error instanceof MigrationRunError) console.log(error.file, error.line, error.sqlstate)
 */
export class MigrationRunError extends MigrationError {
  readonly problem: MigrationProblem
  /** The files the gate refused (for `refused` and `checksum`). */
  readonly issues: readonly MigrationIssue[]
  /** 1-based line in the file of the failing statement. */
  readonly line: number | undefined
  /** The server's SQLSTATE, when the server raised the error. */
  readonly sqlstate: string | undefined
  /** The migrations this run applied before it stopped (they stay applied). */
  readonly applied: readonly string[]
  constructor(
    message: string,
    fields: {
      readonly problem: MigrationProblem
      readonly file?: string | undefined
      readonly issues?: readonly MigrationIssue[]
      readonly line?: number | undefined
      readonly sqlstate?: string | undefined
      readonly applied?: readonly string[]
    },
    options?: ErrorOptions,
  ) {
    super(message, { file: fields.file }, options)
    this.name = 'MigrationError'
    this.problem = fields.problem
    this.issues = fields.issues ?? []
    this.line = fields.line
    this.sqlstate = fields.sqlstate
    this.applied = fields.applied ?? []
  }
}

/** The same error, knowing which migrations the run had applied before it. Never throws. */
export function withApplied(error: MigrationRunError, applied: readonly string[]): MigrationRunError {
  if (applied.length === 0) return error
  const names = applied.length <= 5 ? applied.join(', ') : `${applied.slice(0, 5).join(', ')}, ...`
  const note = `${applied.length} migration${applied.length === 1 ? '' : 's'} applied by this run stay${applied.length === 1 ? 's' : ''} applied (${names}).`
  return new MigrationRunError(
    `${error.message}\n${note}`,
    {
      problem: error.problem,
      file: error.file,
      issues: error.issues,
      line: error.line,
      sqlstate: error.sqlstate,
      applied,
    },
    error.cause === undefined ? undefined : { cause: error.cause },
  )
}
