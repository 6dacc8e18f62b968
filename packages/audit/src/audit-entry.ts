/** Every outcome a record can carry, in the order of a gated statement's life. */
export const AUDIT_OUTCOMES = [
  'intent',
  'committed',
  'rolled_back',
  'failed',
  'blocked',
  'dry_run',
  'rehearsed',
] as const

/**
 * What happened to a statement.
 *
 * - `intent`: written, flushed, before anything is sent to the server (write-ahead).
 * - `committed`, `rolled_back`, `failed`: what the server did.
 * - `blocked`: the gate refused it (a missing `confirm` or `iKnowWhatImDoing`).
 * - `dry_run`, `rehearsed`: classified only, or run in a transaction that was rolled back on purpose.
 */
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number]

/** The safety tiers, lowest first. */
export const AUDIT_TIERS = ['safe', 'cautious', 'destructive'] as const

/** A statement's safety tier, as the classifier gave it. */
export type AuditTier = (typeof AUDIT_TIERS)[number]

/** The flags the caller passed with a statement. */
export interface AuditFlags {
  /** `confirm: true` was passed (needed for `cautious`). */
  readonly confirm: boolean
  /** `iKnowWhatImDoing: true` was passed (needed for `destructive`); the one-line format calls it `override`. */
  readonly iKnowWhatImDoing: boolean
  /** The statement was only classified, not sent. */
  readonly dryRun: boolean
  /** The statement was run in a transaction that was rolled back on purpose. */
  readonly rehearse: boolean
}

/**
 * What a caller passes to {@link AuditLog.append}: one event about one statement.
 *
 * @example
 * ```ts
 * const entry: AuditEntry = {
 *   project: 'smoothed',
 *   tier: 'destructive',
 *   statement: 'DROP TABLE old_users',
 *   flags: { confirm: false, iKnowWhatImDoing: true, dryRun: false, rehearse: false },
 *   outcome: 'intent',
 *   runId: 'b7c1e0c2-5d1e-4a59-9d0e-3c8f6f1a2b44',
 * }
 * ```
 */
export interface AuditEntry {
  /** Project name, or `'default'`. */
  readonly project: string
  readonly tier: AuditTier
  /** SQL text. The log redacts it again ({@link redactSecrets}) before writing. */
  readonly statement: string
  readonly flags: AuditFlags
  readonly outcome: AuditOutcome
  /** Links one intent to its one outcome: use a fresh id per intent. */
  readonly runId?: string
  /** Where the statement came from, e.g. a migration file name. */
  readonly source?: string
  /** Rows the statement affected (a non-negative integer). */
  readonly rowsAffected?: number
  /** How long the statement ran, in milliseconds (finite, non-negative). */
  readonly durationMs?: number
  /** The server's SQLSTATE when it failed, e.g. `42P01`. */
  readonly sqlstate?: string
  /** A short error message; redacted before writing. */
  readonly error?: string
  /** Who ran it; overrides the log's default actor (`DDL_ACTOR` or the OS user). */
  readonly actor?: string
  /** The project policy behind this record: the tiers it lowered, or the approval of a policy. */
  readonly policy?: AuditPolicy
  /**
   * Undo link: `kept:<id>` (what the run removed is kept under that undo id), `given-up` (the caller
   * gave up the kept copy for this run), `restores:<id>` (this is `ddl undo <id>`), `purged:<id>`.
   */
  readonly undo?: string
}

/**
 * A project policy as a record names it. On a statement's records: the hash of the approved policy
 * and each tier it lowered. On the record `ddl policy approve` writes: the hash and `approved: true`.
 */
export interface AuditPolicy {
  /** SHA-256 (hex) of the policy's canonical JSON. */
  readonly hash?: string
  /** True on the record of a person approving this policy. */
  readonly approved?: boolean
  /** The findings policy moved below their rule's own tier. */
  readonly lowered?: readonly AuditLowering[]
}

/** One tier lowered by policy. */
export interface AuditLowering {
  readonly rule: string
  readonly from: AuditTier
  readonly to: AuditTier
}

/** The format version written in every record's `v` field. */
export const AUDIT_RECORD_VERSION = 1

/**
 * What is written: one JSON line per record, chained by `prevHash` and `hash`.
 *
 * `hash` is SHA-256 (hex) over the canonical form of the record without `hash` (see {@link hashRecord});
 * `prevHash` is the previous record's `hash`, or {@link GENESIS_HASH} for the first record.
 */
export interface AuditRecord extends AuditEntry {
  readonly v: 1
  /** 1 for the first record of the file, then +1 per record. */
  readonly seq: number
  /** When the record was written, ISO 8601 in UTC (`2026-01-29T10:15:32.104Z`). */
  readonly time: string
  readonly actor: string
  readonly prevHash: string
  readonly hash: string
}
