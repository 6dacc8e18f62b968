import type { HazardState } from './hazard-state.js'
import type { MigrationHistory } from './history.js'
import type { Profile } from './profile.js'
import type { Tier } from './tier.js'
import type { LockMode, Severity } from './types.js'
import type { Fields } from './walk.js'

/** What a rule's `check` returns: nothing, `true` (fires on the statement's main object), or the objects it fires on. */
export type RuleMatch = boolean | undefined | string | readonly string[]

/** What a rule can see besides the node it reads. */
export interface RuleContext {
  /** The whole top-level statement's text. */
  readonly text: string
  /** Node types enclosing the current node, outermost first (the top-level statement kind first). */
  readonly ancestors: readonly string[]
  /** The kind of the top-level statement being analyzed (`AlterTableStmt`, `IndexStmt`, ...). */
  readonly statementKind: string
  /** The relation named by the nearest enclosing statement (`public.users`), or ''. */
  readonly relation: string
  /** The script so far: functions and prepared statements defined by earlier statements. */
  readonly script: ScriptState
  /** Postgres major version the advice is for. */
  readonly pgVersion: number
  /** Classifies SQL found inside this statement (a function body, an EXECUTE string) and merges its findings. */
  nested(sql: string, where: string): Tier
  /** Records an object the statement acts on. */
  target(name: string): void
  /** Reports the lock and work this statement takes (hazard rules). The strongest lock wins. */
  lock(mode: LockMode, effects?: { readonly rewrite?: boolean; readonly scan?: boolean }): void
  /** Reports a finding of another rule's wording from inside this rule (used by composite analyses). */
  report(rule: Rule, target: string): void
}

/** What earlier statements of the script defined. */
export interface ScriptState {
  /** Functions and procedures created earlier in this script, by lower-case name, with the tier of their bodies. */
  readonly functions: Map<string, Tier>
  /** Statements prepared earlier in this script, by name, with the PREPARE statement text. */
  readonly prepared: Map<string, string>
  /** What the hazard rules track across statements (created tables, lock_timeout, locks held). */
  readonly hazards: HazardState
  /** The schema earlier statements and earlier migrations of the run defined (column types, RLS, functions). */
  readonly history: MigrationHistory
  /** This script's number in the run (0-based; {@link MigrationHistory.scripts} counts them). */
  readonly script: number
  /** The platform profile in force (from configuration or the connection, never from SQL). */
  readonly profile?: Profile
  /** Functions known to be read-only (`auth.uid`), schema-qualified lower case: {@link ClassifyOptions.knownFunctions}. */
  readonly knownFunctions: ReadonlySet<string>
  /** Identifiers over 63 bytes named so far in this script: truncated name -> full name. */
  readonly identifiers: Map<string, string>
}

/**
 * One rule: the node kinds it reads, the tier it gives, what it says.
 *
 * @example
 * export const deleteWithoutWhere = defineRule<DeleteStmt>({
 *   id: 'delete-without-where', tier: 'destructive', kinds: ['DeleteStmt'],
 *   check: (stmt) => stmt.whereClause === undefined,
 *   message: (t) => `DELETE FROM ${t} has no WHERE: it removes every row.`,
 *   hint: 'Add a WHERE that names the rows. To empty the table on purpose, write TRUNCATE.',
 * })
 */
export interface Rule<N = Fields> {
  /** Kebab-case id; its page is `docs/rules/<id>.md`. */
  readonly id: string
  readonly tier: Tier
  /** Defaults to `error` for destructive, `warning` for cautious and `info` for safe. */
  readonly severity?: Severity
  /** True for lint hazards, which never change the tier unless policy says so. */
  readonly hazard?: boolean
  /** Node types this rule reads (`DropStmt`, `FuncCall`, ...). */
  readonly kinds: readonly string[]
  readonly check: (node: N, ctx: RuleContext) => RuleMatch
  /** What happens and what is lost, naming the object. */
  readonly message: (target: string, node: N) => string
  /** The safe path, as an order. */
  readonly hint: string | ((target: string, node: N) => string)
}

/** A rule with its node type erased, as the registry holds it. */
export type AnyRule = Rule<Fields>

/** Declares a rule; typed on the node it reads. */
export function defineRule<N>(rule: Rule<N>): AnyRule {
  return rule as unknown as AnyRule
}

/** The documentation path of a rule. */
export function ruleDocs(id: string): string {
  return `docs/rules/${id}.md`
}
