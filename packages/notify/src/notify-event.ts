/** Every event a sink can subscribe to, in the order of a change's life. */
export const NOTIFY_EVENT_TYPES = [
  'approval.requested',
  'approval.granted',
  'approval.expired',
  'approval.refused',
  'work.committed',
  'work.refused',
  'migration.applied',
  'migration.failed',
  'drift.found',
  'audit.verify_failed',
] as const

/**
 * What happened, as a notification names it:
 *
 * - `approval.requested`: cautious or destructive work waits for a person (`ddl approve ID`).
 * - `approval.granted`, `approval.expired`, `approval.refused` (denied by a person, or refused by the server).
 * - `work.committed`: destructive work (cautious too, when a sink asks for it) was committed.
 * - `work.refused`: the effect check rolled a run back (what the server measured exceeded the tier).
 * - `migration.applied`, `migration.failed`: a `ddl migrate` run.
 * - `drift.found`: the database no longer matches its migrations.
 * - `audit.verify_failed`: `ddl audit verify` found the chain broken.
 */
export type NotifyEventType = (typeof NOTIFY_EVENT_TYPES)[number]

/** A statement as a notification shows it: SQL redacted (or omitted with `includeSql: false`). */
export interface NotifyStatement {
  /** The statement, redacted as the audit log redacts it; absent when the sink omits SQL. */
  readonly sql?: string
  readonly tier: 'safe' | 'cautious' | 'destructive'
  /** Rows the statement affected, when the server said. */
  readonly rows?: number
  /** The line of the statement in the script, when known. */
  readonly line?: number
  /** What could be lost and why (pending approvals). */
  readonly findings?: readonly NotifyFinding[]
}

/** One finding of the classifier, on a pending approval. */
export interface NotifyFinding {
  readonly rule: string
  readonly tier: 'safe' | 'cautious' | 'destructive'
  readonly message: string
}

/**
 * One notification, before it is shaped for a sink. Derived from durable audit records (the log is
 * the outbox), or written to the delivery state before it is sent (migration, drift and verify events).
 */
export interface NotifyEvent {
  /** Stable across retries and sinks: receivers de-duplicate on it (`webhook-id`). */
  readonly id: string
  readonly type: NotifyEventType
  /** When the record behind it was written (ISO 8601 UTC). */
  readonly time: string
  /** The project (`default` without one). */
  readonly project: string
  /** Who acted, as the audit log names them. */
  readonly actor: string
  /** The highest tier involved, when there is one. */
  readonly tier?: 'safe' | 'cautious' | 'destructive'
  /** Where the SQL came from (`cli`, a file, a migration, `mcp`). */
  readonly source?: string
  readonly statements?: readonly NotifyStatement[]
  /** Rows affected in total, when known. */
  readonly rows?: number
  /** The undo id of committed work, when the run kept what it removed (`ddl undo ID`). */
  readonly undo?: string
  /** The approval behind the event. */
  readonly approval?: NotifyApproval
  /** A short reason: the effect check's message, the migration's error, the verify problem. */
  readonly reason?: string
  /** The database the work goes to (pending approvals), e.g. `db.example.com:5432/app`. */
  readonly database?: string
  /** Facts from the rehearsal a person was shown (pending approvals). */
  readonly rehearsal?: readonly string[]
  /** Migration files (migration events). */
  readonly migrations?: readonly string[]
  /** The audit records it was derived from: the first and last `seq`, and the last `hash`. */
  readonly record?: { readonly firstSeq: number; readonly lastSeq: number; readonly hash: string }
}

/** An approval as an event names it, with the command a person runs. */
export interface NotifyApproval {
  readonly id: string
  /** `ddl approve ID`: run by a person in their own terminal (requested events). */
  readonly command?: string
  /** Who approved or denied. */
  readonly by?: string
  readonly via?: string
  readonly expiresAt?: string
}
