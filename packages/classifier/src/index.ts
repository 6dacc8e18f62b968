export { classify, DEFAULT_PG_VERSION, init, learnHistory, MAX_INPUT_LENGTH } from './classify.js'
export type { ClassifierError } from './errors.js'
export { InputError, NotInitializedError } from './errors.js'
export { fallbackVerdict } from './fallback.js'
export type { LateFinding, LearnedFunction, LearnedTable, MigrationHistory, Origin } from './history.js'
export { historyFindings, newMigrationHistory } from './history.js'
export type { Piece, SplitOptions, Token, TokenType } from './lexer.js'
export { splitStatements, tokenize } from './lexer.js'
export type { AllowEntry, ClassifyOptions, Policy } from './policy.js'
export type { Profile, ProfileOptions } from './profile.js'
export { isSupabaseHost, PROFILES, profileOptions, SUPABASE_KNOWN_FUNCTIONS } from './profile.js'
export { redactSql } from './redact.js'
export type { AnyRule, Rule, RuleContext, RuleMatch, ScriptState } from './rule.js'
export { allRules, SAFE_KINDS } from './rules/index.js'
export { DEFAULT_PROTECTED_TABLES } from './rules/tool-owned-table.js'
export type { RequiredFlag, Tier } from './tier.js'
export { compareTiers, flagsAllow, isTier, maxTier, requiredFlag, TIERS } from './tier.js'
export type { BodyTransactionFacts } from './transaction.js'
export { bodyTransactionFacts } from './transaction.js'
export type {
  ClassifiedStatement,
  Finding,
  LockMode,
  Lowering,
  Plan,
  Severity,
  Span,
  Statement,
  StatementParseError,
  Verdict,
} from './types.js'
