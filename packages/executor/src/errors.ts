import type { AuditError } from '@ddl/audit'
import type { Finding, RequiredFlag, Tier } from '@ddl/classifier'
import type { UndoError } from './undo/undo-error.js'

/** Why the gate refused a script. */
export type SafetyReason =
  /** The script's tier needs a flag the caller did not pass. */
  | 'tier'
  /** The script contains BEGIN, COMMIT, ROLLBACK, SAVEPOINT, ...: they would escape the engine's transaction. */
  | 'transaction-control'
  /** A statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY, VACUUM) is mixed with others. */
  | 'non-transactional'
  /** `query()` was given a statement that writes. */
  | 'write-in-query'
  /** `COPY ... FROM STDIN`: it waits for rows from the client, and the executor sends none. */
  | 'copy-from-client'
  /**
   * The effect check: what the server measured the transaction doing (rows deleted or updated, tables
   * emptied or dropped, triggers disabled, guards lifted) needs a flag the caller did not pass. Rolled back.
   */
  | 'effect-exceeds-tier'
  /** The effect check: more rows deleted or updated than `maxRows` allows. Rolled back. */
  | 'effect-exceeds-max-rows'
  /** The effect check: an approved run did more than the rehearsal the person was shown. Rolled back. */
  | 'effect-exceeds-rehearsal'

/** One measured effect named by a `SafetyError` of the effect check. */
export interface RefusedEffect {
  /** `delete`, `update`, `empty`, `update-every-row`, `drop`, `unlink-large-objects`, `disable-trigger`, `disable-rule`, `lift-guard`. */
  readonly effect: string
  /** The table (or setting) it concerns. */
  readonly table: string
  /** Counts and facts, for people. */
  readonly detail: string
  /** The tier the effect needs. */
  readonly tier: Tier
}

/** One statement the gate refused, as shown to a person (SQL redacted, one line). */
export interface RefusedStatement {
  /** The statement, whitespace collapsed, password literals redacted, cut to about 100 characters. */
  readonly display: string
  /** 1-based line and column of the statement in the caller's SQL. */
  readonly line: number
  readonly column: number
  readonly kind: string
  readonly tier: Tier
  readonly findings: readonly Finding[]
}

/**
 * The gate refused the script; nothing was sent to the server.
 *
 * @example
 * // Destructive operation blocked: DROP TABLE users
 * // DROP TABLE users deletes the table and all its rows; once committed, only ddl undo of a run that kept it brings it back.
 * // Use iKnowWhatImDoing: true to override
 */
export class SafetyError extends Error {
  readonly kind = 'SafetyError'
  readonly reason: SafetyReason
  /** The tier of the whole script. */
  readonly tier: Tier
  /** The flag that lets the script run (`none` when no flag can: see {@link reason}). */
  readonly requires: RequiredFlag
  /** The statements that caused the refusal. */
  readonly statements: readonly RefusedStatement[]
  /** What to do next. */
  readonly hint: string
  /** The measured effects that caused the refusal (effect-check reasons only; empty otherwise). */
  readonly effects: readonly RefusedEffect[]
  constructor(
    message: string,
    fields: {
      readonly reason: SafetyReason
      readonly tier: Tier
      readonly requires: RequiredFlag
      readonly statements: readonly RefusedStatement[]
      readonly hint: string
      readonly effects?: readonly RefusedEffect[]
    },
  ) {
    super(message)
    this.name = 'SafetyError'
    this.reason = fields.reason
    this.tier = fields.tier
    this.requires = fields.requires
    this.statements = fields.statements
    this.hint = fields.hint
    this.effects = fields.effects ?? []
  }
}

/** The Postgres grammar rejected a statement; nothing was sent to the server. */
export class ParseError extends Error {
  readonly kind = 'ParseError'
  /** 1-based line and column of the error in the caller's SQL. */
  readonly line: number
  readonly column: number
  /** The parser's own message (`syntax error at or near "TABEL"`). */
  readonly parserMessage: string
  /** The statement, redacted and cut for display. */
  readonly statement: string
  constructor(
    message: string,
    fields: {
      readonly line: number
      readonly column: number
      readonly parserMessage: string
      readonly statement: string
    },
  ) {
    super(message)
    this.name = 'ParseError'
    this.line = fields.line
    this.column = fields.column
    this.parserMessage = fields.parserMessage
    this.statement = fields.statement
  }
}

/** Why the input is not SQL that can be run. */
export type InputProblem =
  | 'empty'
  | 'nul-byte'
  | 'invalid-utf8'
  | 'invalid-unicode'
  | 'utf16'
  | 'too-large'
  | 'unreadable'
  | 'one-statement'
  | 'parser'
  | 'options'
  | 'transaction-ended'

/** The input is not SQL that could be classified or sent (empty, binary, too large, unreadable). */
export class InputError extends Error {
  readonly kind = 'InputError'
  readonly problem: InputProblem
  /** 1-based line and column of the problem, when there is one. */
  readonly line: number | undefined
  readonly column: number | undefined
  /** The file, when the SQL came from one. */
  readonly path: string | undefined
  constructor(
    message: string,
    fields: {
      readonly problem: InputProblem
      readonly line?: number | undefined
      readonly column?: number | undefined
      readonly path?: string | undefined
    },
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'InputError'
    this.problem = fields.problem
    this.line = fields.line
    this.column = fields.column
    this.path = fields.path
  }
}

/** `ddl.config.json`, `.env` or the environment does not say how to connect (or says it wrongly). */
export class ConfigError extends Error {
  readonly kind = 'ConfigError'
  /** The configuration file involved, when there is one. */
  readonly path: string | undefined
  constructor(message: string, fields: { readonly path?: string | undefined } = {}, options?: ErrorOptions) {
    super(message, options)
    this.name = 'ConfigError'
    this.path = fields.path
  }
}

/** The server could not be reached or refused the login. Nothing was run. */
export class ConnectionError extends Error {
  readonly kind = 'ConnectionError'
  /** The project name, or `undefined` for `DDL_DATABASE_URL` / `DATABASE_URL` / an explicit URL. */
  readonly project: string | undefined
  /** The environment variable the connection string came from, when it came from one. */
  readonly variable: string | undefined
  /** Where it tried to connect: `host:port/database`, never the password. */
  readonly target: string
  /** The socket error code (`ECONNREFUSED`) or the server's SQLSTATE (`28P01`), when known. */
  readonly code: string | undefined
  constructor(
    message: string,
    fields: {
      readonly project: string | undefined
      readonly variable: string | undefined
      readonly target: string
      readonly code: string | undefined
    },
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'ConnectionError'
    this.project = fields.project
    this.variable = fields.variable
    this.target = fields.target
    this.code = fields.code
  }
}

/** When in a run the server raised the error. */
export type PostgresPhase = 'statement' | 'begin' | 'settings' | 'commit' | 'query' | 'inspect'

/**
 * The server raised an error while running SQL. The transaction was rolled back.
 * Keeps the server's SQLSTATE, detail and hint, and the line in the caller's SQL.
 */
export class PostgresError extends Error {
  readonly kind = 'PostgresError'
  /** SQLSTATE, e.g. `23505` (unique violation), `55P03` (lock timeout), `57014` (statement timeout). */
  readonly code: string
  /** The server's message without our additions. */
  readonly serverMessage: string
  readonly detail: string | undefined
  /** The server's hint; our own advice is in {@link advice}. */
  readonly hint: string | undefined
  /** What to do next, from safe-ddl (lock timeouts, statement timeouts, ...). */
  readonly advice: string | undefined
  readonly phase: PostgresPhase
  /** 1-based line and column in the caller's SQL (the error position when the server gave one). */
  readonly line: number | undefined
  readonly column: number | undefined
  /** The failing statement, redacted and cut for display. */
  readonly statement: string | undefined
  /** 0-based index of the failing statement in the script, when a statement failed. */
  readonly statementIndex: number | undefined
  readonly schema: string | undefined
  readonly table: string | undefined
  readonly constraint: string | undefined
  constructor(
    message: string,
    fields: {
      readonly code: string
      readonly serverMessage: string
      readonly detail?: string | undefined
      readonly hint?: string | undefined
      readonly advice?: string | undefined
      readonly phase: PostgresPhase
      readonly line?: number | undefined
      readonly column?: number | undefined
      readonly statement?: string | undefined
      readonly statementIndex?: number | undefined
      readonly schema?: string | undefined
      readonly table?: string | undefined
      readonly constraint?: string | undefined
    },
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'PostgresError'
    this.code = fields.code
    this.serverMessage = fields.serverMessage
    this.detail = fields.detail
    this.hint = fields.hint
    this.advice = fields.advice
    this.phase = fields.phase
    this.line = fields.line
    this.column = fields.column
    this.statement = fields.statement
    this.statementIndex = fields.statementIndex
    this.schema = fields.schema
    this.table = fields.table
    this.constraint = fields.constraint
  }
}

/** A migration could not be applied (bad file, changed checksum, out of order, a failing statement). */
export class MigrationError extends Error {
  readonly kind = 'MigrationError'
  /** The migration file involved, when there is one. */
  readonly file: string | undefined
  constructor(message: string, fields: { readonly file?: string | undefined } = {}, options?: ErrorOptions) {
    super(message, options)
    this.name = 'MigrationError'
    this.file = fields.file
  }
}

/** The callback given to `transaction()` threw something that is not an {@link ExecutorError}. */
export class CallbackError extends Error {
  readonly kind = 'CallbackError'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'CallbackError'
  }
}

/** Every error `@ddl/executor` returns. Switch on `kind`. */
export type ExecutorError =
  | SafetyError
  | ParseError
  | InputError
  | ConfigError
  | ConnectionError
  | PostgresError
  | MigrationError
  | AuditError
  | UndoError

/** What `transaction()` can fail with: an {@link ExecutorError}, or the callback's own throw. */
export type TransactionError = ExecutorError | CallbackError

const executorKinds = new Set([
  'SafetyError',
  'ParseError',
  'InputError',
  'ConfigError',
  'ConnectionError',
  'PostgresError',
  'MigrationError',
  'AuditError',
  'UndoError',
])

/** True for any error of the {@link ExecutorError} union (matched on `kind`). Never throws. */
export function isExecutorError(value: unknown): value is ExecutorError {
  return value instanceof Error && executorKinds.has(String((value as { readonly kind?: unknown }).kind ?? '')) === true
}
