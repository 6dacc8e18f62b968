import type { FreshObjects } from './fresh-objects.js'
import type { FunctionReference } from './function-refs.js'
import type { HazardState } from './hazard-state.js'
import type { MigrationHistory } from './history.js'
import type { KnownDefinition } from './known-definitions.js'
import type { Profile } from './profile.js'
import type { Tier } from './tier.js'
import type { LockMode, Severity } from './types.js'
import type { Fields } from './walk.js'

/** A finding on one object at a tier decided when the rule runs (the tier of code it found running). */
export interface TieredMatch {
  readonly target: string
  readonly tier: Tier
}

/**
 * What a rule's `check` returns: nothing, `true` (fires on the statement's main object), the objects
 * it fires on, or objects each with its own tier (rules whose tier is that of the code they find).
 */
export type RuleMatch = boolean | undefined | string | readonly string[] | readonly TieredMatch[]

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
  /** The type of the node the rule is reading (`FuncCall`, `A_Expr`, `DefineStmt`, ...). */
  readonly nodeType: string
  /** Schema-qualified lower-case names of functions known to be side-effect free (a profile's, e.g. `auth.uid`). */
  readonly knownFunctions: ReadonlySet<string>
  /** Classifies SQL found inside this statement (an EXECUTE string, a DO body: it runs now) and merges its findings. */
  /** The tool's own tables (`ClassifyOptions.protectedTables`); rules use the default when unset. */
  readonly protectedTables?: readonly string[] | undefined
  /** Classifies SQL found inside this statement (a function body, an EXECUTE string) and merges its findings. */
  nested(sql: string, where: string): Tier
  /**
   * Classifies the body of a definition (a function or procedure: it runs when called, not now).
   * Findings that reach outside the transaction (dangerous functions, server files, unreadable code)
   * keep their tier; the others become notes. Returns the body's full tier (what a call would get).
   */
  nestedDefinition(sql: string, where: string): Tier
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
  /** Operators created earlier in this script, by name, with the tier of the function they run. */
  readonly operators: Map<string, Tier>
  /** Code that runs when a relation is read (views, policies, rules), by lower-case relation name. */
  readonly reads: Map<string, DeferredCode>
  /** Code that runs when a relation is written (defaults, checks, generated columns, index expressions, triggers, rules, domains). */
  readonly writes: Map<string, DeferredCode>
  /** Code that runs when a value becomes a type (domain checks, casts, type I/O functions), by lower-case type name. */
  readonly types: Map<string, DeferredCode>
  /** Code an event trigger created earlier runs on every later DDL statement, or undefined. */
  eventTrigger: DeferredCode | undefined
  /** Tables and columns this script created and has kept in sight (see fresh-objects.ts). */
  readonly fresh: FreshObjects
  /**
   * While a function body is classified: the functions it calls that were not defined (or not safe)
   * yet, and the highest tier anything else in it reached. See `definedFunctionTier`.
   */
  bodyCalls: { readonly refs: FunctionReference[]; other: Tier } | undefined
  /** Definitions a statement of this script dropped, as they were just before (by statement index, then key). */
  readonly droppedDefinitions: Map<number, Map<string, KnownDefinition>>
  /**
   * Statements that created an object the history proves new though the text allows an old one
   * (`CREATE TABLE IF NOT EXISTS`, `CREATE OR REPLACE FUNCTION` in a run read from its first migration).
   */
  readonly createdNew: Set<number>
  /** The script set the session's time zone to UTC and nothing since could have changed it. */
  utc: boolean
}

/** Code recorded by a definition, to be run later by a statement that looks harmless. */
export interface DeferredCode {
  readonly tier: Tier
  /** What runs it, for messages: `view active_users calls purge()`. */
  readonly via: string
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
