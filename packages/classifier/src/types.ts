import type { Node } from '@pgsql/types'
import type { RequiredFlag, Tier } from './tier.js'

/** How loudly a finding speaks: tier findings are `error` (destructive) or `warning`; hazards vary. */
export type Severity = 'error' | 'warning' | 'info'

/** Postgres's own names for table-level lock modes, weakest last. */
export type LockMode =
  | 'AccessExclusiveLock'
  | 'ExclusiveLock'
  | 'ShareRowExclusiveLock'
  | 'ShareLock'
  | 'ShareUpdateExclusiveLock'
  | 'RowExclusiveLock'
  | 'RowShareLock'
  | 'AccessShareLock'

/** One thing a rule found in a statement. */
export interface Finding {
  /** The rule id, e.g. `drop-table`; its page is `docs/rules/<rule>.md`. */
  readonly rule: string
  /** The tier this finding gives the statement (hazards give `safe`: they do not raise it). */
  readonly tier: Tier
  readonly severity: Severity
  /** What happens and what could be lost, naming the object. */
  readonly message: string
  /** The safe path, as an order. */
  readonly hint: string
  /** Set when policy moved this finding below its rule's own tier. */
  readonly lowered?: Lowering
}

/** A tier lowered by policy: which rule, from which tier to which, under which policy. */
export interface Lowering {
  readonly rule: string
  /** The rule's own tier. */
  readonly from: Tier
  /** The tier policy gave it. */
  readonly to: Tier
  /** The hash of the approved policy that lowered it (`ClassifyOptions.policyHash`), when given. */
  readonly policyHash?: string
}

/** Where a statement sits in the input: 0-based UTF-16 offset, 1-based line and column. */
export interface Span {
  readonly offset: number
  readonly length: number
  readonly line: number
  readonly column: number
}

/** A statement the parser could not read. */
export interface StatementParseError {
  readonly message: string
  /** 1-based line and column of the error in the whole input. */
  readonly line: number
  readonly column: number
}

/** One statement cut from the input. */
export interface Statement {
  /** The exact text that is classified and, byte for byte, the text that is sent (no trailing `;`). */
  readonly text: string
  readonly span: Span
  /**
   * The statement's node type (`DropStmt`, `DeleteStmt`, ...), or `Unparsed` when the grammar
   * rejected it (its verdict then comes from the token fallback and is never `safe`).
   */
  readonly kind: string
  /** The parse tree of the statement (`undefined` when unparsed). */
  readonly ast: Node | undefined
  readonly parseError?: StatementParseError
}

/** What the classifier concludes about one statement. */
export interface Verdict {
  /** The highest tier of the findings; `safe` when none raise it. */
  readonly tier: Tier
  readonly findings: readonly Finding[]
  /** The objects the statement acts on, schema-qualified when the SQL qualifies them (`public.users`). */
  readonly targets: readonly string[]
  /** False for statements Postgres refuses inside a transaction block (CREATE INDEX CONCURRENTLY, VACUUM, ...). */
  readonly transactional: boolean
  /** The transaction-control verb (`BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`, ...) or `null`. */
  readonly transactionControl: string | null
  /** The strongest lock taken on an existing relation, or `null` when none is. */
  readonly lock: LockMode | null
  /** True when Postgres rewrites the table (or every index) to run it. */
  readonly rewrite: boolean
  /** True when every row is read while the lock is held. */
  readonly scan: boolean
  /**
   * False when the statement may have effects a ROLLBACK cannot undo: it kills sessions, touches the
   * server's files, reaches other servers, or calls code safe-ddl cannot read. A rehearsal (which
   * always rolls back) must not run such a statement without the flags its tier needs.
   */
  readonly rollbackSafe: boolean
  /** Every finding policy lowered (see {@link Finding.lowered}); absent when policy lowered none. */
  readonly lowered?: readonly Lowering[]
}

/** A statement with its verdict. */
export interface ClassifiedStatement extends Statement {
  readonly verdict: Verdict
}

/** The classification of a whole script. */
export interface Plan {
  readonly statements: readonly ClassifiedStatement[]
  /** The highest tier of the statements (`safe` for an empty script). */
  readonly tier: Tier
  /** What the caller must pass for the script to run. */
  readonly requires: RequiredFlag
  /** True when at least one statement could not be parsed. */
  readonly hasParseErrors: boolean
}
