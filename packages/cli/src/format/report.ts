import type { ClassifiedStatement, Plan, Tier } from '@ddl/classifier'
import type { Suppression } from '../ignores.js'

/** One checked file (or standard input) and its classification. */
export interface CheckedFile {
  /** The path as shown to people: relative to the working directory when inside it, else absolute; `<stdin>` for `-`. */
  readonly path: string
  /** The path as a SARIF artifact URI: relative with `/` separators, or a `file://` URL; `stdin` for `-`. */
  readonly uri: string
  /** The file's text, for code frames. */
  readonly source: string
  readonly plan: Plan
  /** Hazard findings silenced by `-- ddl:ignore` comments, by the statement of `plan` they were on. */
  readonly suppressed?: ReadonlyMap<ClassifiedStatement, readonly Suppression[]>
}

/** The `--fail-on` threshold: a tier, or `never`. */
export type FailOn = Tier | 'never'

/** What a whole run found. */
export interface RunSummary {
  readonly files: number
  readonly statements: number
  /** Statements by their tier. */
  readonly byTier: Readonly<Record<Tier, number>>
  /** Statements the grammar rejected (classified by the token fallback). */
  readonly unparsed: number
  /** The highest tier of every statement checked (`safe` when there are none). */
  readonly tier: Tier
  readonly failOn: FailOn
  /** True when the highest tier is at or above `failOn`. */
  readonly failed: boolean
  /** Inputs that could not be read or classified (each named on stderr); the run exits 2. */
  readonly unreadable: number
}

/** Writes one output format: a file at a time as they are checked, then the end of the run. */
export interface Reporter {
  file(file: CheckedFile): void
  end(summary: RunSummary): void
}
