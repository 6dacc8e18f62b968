import type { Finding, RequiredFlag, Tier } from '@ddl/classifier'
import type { UndoSummary } from '../undo/undo-items.js'
import type { MigrationIssue } from './migration-error.js'
import type { MigrationLayout } from './migration-layout.js'

/** One migration this run applied. */
export interface AppliedMigration {
  readonly name: string
  readonly path: string
  readonly tier: Tier
  /** False when the file ran statement by statement outside a transaction (CREATE INDEX CONCURRENTLY). */
  readonly transactional: boolean
  /** Statements sent. */
  readonly statements: number
  /** `BEGIN`/`COMMIT` statements taken out of the file (not sent). */
  readonly strippedTransactionControl: number
  readonly checksum: string
  /** Time to run the file's statements, in ms (what the tracking row records). */
  readonly durationMs: number
  /** Present when something the file removed was kept: `ddl undo <undo.id>` puts it back. */
  readonly undo?: UndoSummary
}

/** An applied file whose change was accepted (`acceptChanged`): its new checksum is recorded. */
export interface AcceptedChange {
  readonly name: string
  readonly previousChecksum: string
  readonly checksum: string
}

/** What a migration run did. */
export interface MigrationReport {
  readonly dir: string
  readonly layout: MigrationLayout
  /** `up` (applied forward) or `down` (`ddl migrate down`: `applied` lists the migrations reverted, latest first). */
  readonly direction: 'up' | 'down'
  /** Files in the directory (or 1 for a single file). */
  readonly total: number
  /** Applied by this run, in order. */
  readonly applied: readonly AppliedMigration[]
  /** Already applied before this run (skipped). */
  readonly alreadyApplied: readonly string[]
  /** Applied by another runner while this one ran (skipped after the lock). */
  readonly appliedByOthers: readonly string[]
  readonly accepted: readonly AcceptedChange[]
  /** Things a person should know (out-of-order files, applied files missing from the directory). */
  readonly notes: readonly string[]
  readonly durationMs: number
  /** One line for people: `Applied 3 migrations (12 already applied) in 140 ms.` */
  readonly message: string
}

/** How one pending file would run (`--plan`). */
export interface PlannedMigration {
  readonly name: string
  readonly path: string
  readonly tier: Tier
  /** The flag the file needs. */
  readonly requires: RequiredFlag
  /** True when the given flags let it run (and nothing else stops it). */
  readonly allowed: boolean
  readonly transactional: boolean
  readonly statements: number
  /** 1-based lines of `BEGIN`/`COMMIT` statements that would be taken out. */
  readonly strippedLines: readonly number[]
  readonly findings: readonly (Finding & { readonly line: number })[]
  /** Why it would be refused, whatever the flags or for want of one. */
  readonly issues: readonly MigrationIssue[]
}

/** What a run would do (`--plan`): nothing is run or written. */
export interface MigrationPlan {
  readonly dir: string
  readonly layout: MigrationLayout
  readonly total: number
  readonly alreadyApplied: readonly string[]
  readonly pending: readonly PlannedMigration[]
  /** Applied files whose bytes changed since. */
  readonly changed: readonly string[]
  /** The flag the whole run needs (the highest of the pending files). */
  readonly requires: RequiredFlag
  /** True when a run with the same flags would start applying. */
  readonly wouldRun: boolean
  readonly notes: readonly string[]
}

/** Where one migration stands. */
export type MigrationState =
  /** Applied, with the same bytes. */
  | 'applied'
  /** Not applied yet. */
  | 'pending'
  /** Applied, but the file changed since. */
  | 'changed'
  /** Applied, but no longer in the directory. */
  | 'missing'
  /** Claimed by a runner applying it outside a transaction right now, or by one that died doing so. */
  | 'claimed'

/** One line of `ddl migrate status`. */
export interface MigrationStatusEntry {
  readonly name: string
  readonly state: MigrationState
  /** The file's path (absent for `missing`). */
  readonly path?: string
  readonly appliedAt?: Date
  readonly durationMs?: number
  readonly tier?: Tier
  readonly appliedBy?: string
  /** False for a file that ran outside a transaction. */
  readonly transactional?: boolean
  /** For `claimed`: who claimed it, and whether that backend is still connected. */
  readonly claim?: { readonly claimedAt: Date; readonly claimedBy: string; readonly alive: boolean }
}

/** `ddl migrate status`: every file and every tracking row, in order. */
export interface MigrationStatus {
  readonly dir: string
  readonly layout: MigrationLayout
  /** False when the tracking table does not exist yet (nothing was ever applied here). */
  readonly tracking: boolean
  readonly entries: readonly MigrationStatusEntry[]
  readonly counts: Readonly<Record<MigrationState, number>>
}

/** Progress of a run, one event per step (for progress lines). */
export type MigrationEvent =
  | {
      readonly type: 'found'
      readonly dir: string
      readonly layout: MigrationLayout
      /** `down` for `ddl migrate down`: `pending` and `names` are the migrations to revert. */
      readonly direction: 'up' | 'down'
      readonly total: number
      readonly pending: number
      /** The names of the pending files, in order. */
      readonly names: readonly string[]
    }
  | {
      readonly type: 'start'
      readonly name: string
      readonly tier: Tier
      readonly transactional: boolean
      readonly index: number
      readonly count: number
    }
  | { readonly type: 'applied'; readonly migration: AppliedMigration; readonly index: number; readonly count: number }
  | { readonly type: 'skipped'; readonly name: string; readonly reason: 'applied-by-another-runner' }
  | { readonly type: 'waiting'; readonly name: string; readonly reason: string }
  | { readonly type: 'accepted'; readonly change: AcceptedChange }
