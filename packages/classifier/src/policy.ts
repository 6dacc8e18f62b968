import type { MigrationHistory } from './history.js'
import type { Profile } from './profile.js'
import type { Tier } from './tier.js'

/**
 * Project policy, from `ddl.config.json` (`"policy": {...}`) or `package.json` (`"safe-ddl": { "policy": {...} }`).
 * Policy is configuration a person reviews like code; SQL text (comments included) can never change it.
 *
 * @example
 * { "rules": { "truncate": "destructive", "prefer-text-field": "off" },
 *   "allow": [{ "rule": "drop-table", "objects": ["scratch.*", "public.tmp_*"], "tier": "cautious" }] }
 */
export interface Policy {
  /** Move a rule to another tier, or turn a hazard rule `off` (tier rules cannot be turned off). */
  readonly rules?: Readonly<Record<string, Tier | 'off'>>
  /**
   * Let findings of a rule on named objects through at a lower tier (default `safe`). Objects are
   * globs over schema-qualified names: `*` matches within one name part, `**` across parts.
   */
  readonly allow?: readonly AllowEntry[]
  /** Raise every hazard finding of at least this severity to `cautious` (default: hazards never change the tier). */
  readonly hazardsRaiseTier?: 'error' | 'warning' | 'info'
}

export interface AllowEntry {
  readonly rule: string
  readonly objects: readonly string[]
  readonly tier?: Tier
}

/** Options of {@link classify}. */
export interface ClassifyOptions {
  readonly policy?: Policy
  /** Postgres major version the advice is for (default 14, the oldest still supported upstream). */
  readonly pgVersion?: number
  /**
   * Keep each statement's parse tree in the plan (default true). Linters over large files pass
   * false: memory then grows with the statement count only (about 0.4 KB a statement), not with trees.
   */
  readonly keepAst?: boolean
  /**
   * The runner sets `lock_timeout` itself before the script (the executor and the migrations engine
   * do): `missing-lock-timeout` then has nothing to say. Default false (a linter cannot know).
   */
  readonly lockTimeoutSet?: boolean
  /**
   * A platform profile (`supabase`): turns on its lints. Spread {@link profileOptions} to also get its
   * known functions. Comes from configuration or the connection, never from SQL text.
   */
  readonly profile?: Profile
  /**
   * Functions known to be read-only, schema-qualified and lower case (`auth.uid`): calling one is not
   * an unknown call. Rules read it as `ctx.script.knownFunctions`. Configuration only; SQL cannot add to it.
   */
  readonly knownFunctions?: ReadonlySet<string>
  /**
   * The schema learned from earlier scripts of a run ({@link newMigrationHistory}), carried from file to
   * file in migration order and updated by this call. Without it each call starts from nothing and the
   * end-of-run lints are added to this script's own statements.
   */
  readonly history?: MigrationHistory
  /**
   * Tables that hold the tool's own state, as `schema.table` or `schema.*` (default
   * `public.ddl_migrations`, `public.ddl_migration_claims`, `ddl_undo.*`, `ddl_undo_u*.*`): gated SQL that writes,
   * alters or drops them is `destructive` (rule `tool-owned-table`).
   */
  readonly protectedTables?: readonly string[]
  /**
   * Names the policy in the lowering each finding it lowered carries ({@link Lowering}); the executor
   * passes the hash of the approved policy. Not read for anything else.
   */
  readonly policyHash?: string
}
