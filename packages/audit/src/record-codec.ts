import {
  AUDIT_OUTCOMES,
  AUDIT_RECORD_VERSION,
  AUDIT_TIERS,
  type AuditEntry,
  type AuditFlags,
  type AuditOutcome,
  type AuditPolicy,
  type AuditRecord,
  type AuditTier,
} from './audit-entry.js'

/** The fields a record may hold, in the order they are written. */
const RECORD_KEYS = [
  'v',
  'seq',
  'time',
  'actor',
  'project',
  'tier',
  'outcome',
  'statement',
  'flags',
  'runId',
  'source',
  'rowsAffected',
  'durationMs',
  'sqlstate',
  'error',
  'policy',
  'undo',
  'prevHash',
  'hash',
] as const

const ENTRY_KEYS: ReadonlySet<string> = new Set<string>([
  'project',
  'tier',
  'statement',
  'flags',
  'outcome',
  'runId',
  'source',
  'rowsAffected',
  'durationMs',
  'sqlstate',
  'error',
  'undo',
  'actor',
  'policy',
])
const RECORD_KEY_SET: ReadonlySet<string> = new Set<string>(RECORD_KEYS)
const FLAG_KEYS = ['confirm', 'iKnowWhatImDoing', 'dryRun', 'rehearse'] as const

const HASH = /^[0-9a-f]{64}$/
/** Exactly what `Date.prototype.toISOString` writes for years 0000-9999. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/

type Fields = Readonly<Record<string, unknown>>

/** The optional string and number members of an entry. */
export interface EntryExtras {
  readonly runId?: string
  readonly source?: string
  readonly rowsAffected?: number
  readonly durationMs?: number
  readonly sqlstate?: string
  readonly error?: string
  readonly policy?: AuditPolicy
  readonly undo?: string
}

/** Returns what is wrong with a caller's entry, or undefined when it can be recorded. */
export function entryProblem(entry: unknown): string | undefined {
  if (!isObject(entry)) return 'an entry must be an object'
  for (const key of Object.keys(entry)) {
    if (!ENTRY_KEYS.has(key) && entry[key] !== undefined) return `unknown field "${key}"`
  }
  const problem = commonProblem(entry)
  if (problem !== undefined) return problem
  if (entry.actor !== undefined && !nonEmptyString(entry.actor)) return '"actor" must be a non-empty string'
  return undefined
}

/** Returns what is wrong with a parsed line, or the record it holds. */
export function parseRecord(value: unknown): AuditRecord | string {
  if (!isObject(value)) return 'the line is not a JSON object'
  for (const key of Object.keys(value)) {
    if (!RECORD_KEY_SET.has(key)) return `unknown field "${key}"`
  }
  if (value.v !== AUDIT_RECORD_VERSION) return `"v" must be ${AUDIT_RECORD_VERSION}`
  if (!Number.isSafeInteger(value.seq) || (value.seq as number) < 1) return '"seq" must be a positive integer'
  if (typeof value.time !== 'string' || !ISO_TIME.test(value.time)) return '"time" must be an ISO 8601 UTC time'
  if (!nonEmptyString(value.actor)) return '"actor" must be a non-empty string'
  const problem = commonProblem(value)
  if (problem !== undefined) return problem
  if (typeof value.prevHash !== 'string' || !HASH.test(value.prevHash)) return '"prevHash" must be 64 hex digits'
  if (typeof value.hash !== 'string' || !HASH.test(value.hash)) return '"hash" must be 64 hex digits'
  return {
    v: AUDIT_RECORD_VERSION,
    seq: value.seq as number,
    time: value.time,
    actor: value.actor as string,
    ...coreOf(value as unknown as AuditEntry),
    prevHash: value.prevHash,
    hash: value.hash,
  }
}

/**
 * The record's JSON line (without the newline): fields in a fixed order, no whitespace. Parsing a
 * line and serializing it again gives the same bytes, which is how `verify` catches edits that do
 * not change the meaning (a `\u001f` written as `\u001F`).
 */
export function serializeRecord(record: AuditRecord): string {
  const ordered: Record<string, unknown> = {}
  const source = record as unknown as Fields
  for (const key of RECORD_KEYS) {
    const value = key === 'flags' ? flagsOf(record.flags) : source[key]
    if (value !== undefined) ordered[key] = value
  }
  return JSON.stringify(ordered)
}

/** The entry's own fields in canonical shape: flags with exactly four booleans, no undefined members. */
export function coreOf(
  entry: AuditEntry,
): Pick<AuditEntry, 'project' | 'tier' | 'outcome' | 'statement' | 'flags'> & EntryExtras {
  return {
    project: entry.project,
    tier: entry.tier,
    outcome: entry.outcome,
    statement: entry.statement,
    flags: flagsOf(entry.flags),
    ...extrasOf(entry),
  }
}

function extrasOf(entry: EntryExtras): EntryExtras {
  const extras: { -readonly [K in keyof EntryExtras]: EntryExtras[K] } = {}
  if (entry.runId !== undefined) extras.runId = entry.runId
  if (entry.source !== undefined) extras.source = entry.source
  if (entry.rowsAffected !== undefined) extras.rowsAffected = entry.rowsAffected
  if (entry.durationMs !== undefined) extras.durationMs = entry.durationMs
  if (entry.sqlstate !== undefined) extras.sqlstate = entry.sqlstate
  if (entry.error !== undefined) extras.error = entry.error
  if (entry.policy !== undefined) extras.policy = policyOf(entry.policy)
  if (entry.undo !== undefined) extras.undo = entry.undo
  return extras
}

function policyOf(policy: AuditPolicy): AuditPolicy {
  return {
    ...(policy.hash !== undefined ? { hash: policy.hash } : {}),
    ...(policy.approved !== undefined ? { approved: policy.approved } : {}),
    ...(policy.lowered !== undefined
      ? { lowered: policy.lowered.map((l) => ({ rule: l.rule, from: l.from, to: l.to })) }
      : {}),
  }
}

/** What is wrong with a record's `policy`, or undefined. */
function policyProblem(value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (!isObject(value)) return '"policy" must be an object'
  for (const key of Object.keys(value)) {
    if (key !== 'hash' && key !== 'approved' && key !== 'lowered') return `unknown field "policy.${key}"`
  }
  if (value.hash !== undefined && (typeof value.hash !== 'string' || !HASH.test(value.hash)))
    return '"policy.hash" must be 64 hex digits'
  if (value.approved !== undefined && typeof value.approved !== 'boolean')
    return '"policy.approved" must be true or false'
  if (value.lowered !== undefined) {
    if (!Array.isArray(value.lowered)) return '"policy.lowered" must be a list'
    for (const item of value.lowered as unknown[]) {
      if (!isObject(item) || !nonEmptyString(item.rule)) return 'each "policy.lowered" entry needs a "rule"'
      for (const key of Object.keys(item)) {
        if (key !== 'rule' && key !== 'from' && key !== 'to') return `unknown field "policy.lowered.${key}"`
      }
      if (!AUDIT_TIERS.includes(item.from as AuditTier) || !AUDIT_TIERS.includes(item.to as AuditTier))
        return `"policy.lowered" tiers must be one of ${AUDIT_TIERS.join(', ')}`
    }
  }
  return undefined
}

function flagsOf(flags: AuditFlags): AuditFlags {
  return {
    confirm: flags.confirm,
    iKnowWhatImDoing: flags.iKnowWhatImDoing,
    dryRun: flags.dryRun,
    rehearse: flags.rehearse,
  }
}

/** Checks the fields an entry and a record share. */
function commonProblem(value: Fields): string | undefined {
  if (!nonEmptyString(value.project)) return '"project" must be a non-empty string'
  if (!AUDIT_TIERS.includes(value.tier as AuditTier)) return `"tier" must be one of ${AUDIT_TIERS.join(', ')}`
  if (!AUDIT_OUTCOMES.includes(value.outcome as AuditOutcome))
    return `"outcome" must be one of ${AUDIT_OUTCOMES.join(', ')}`
  if (typeof value.statement !== 'string') return '"statement" must be a string'
  const flags = value.flags
  if (!isObject(flags)) return '"flags" must be an object'
  for (const key of Object.keys(flags)) {
    if (!(FLAG_KEYS as readonly string[]).includes(key)) return `unknown flag "${key}"`
  }
  for (const key of FLAG_KEYS) {
    if (typeof flags[key] !== 'boolean') return `flag "${key}" must be true or false`
  }
  for (const key of ['runId', 'source', 'sqlstate', 'error', 'undo'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string') return `"${key}" must be a string`
  }
  const rows = value.rowsAffected
  if (rows !== undefined && (!Number.isSafeInteger(rows) || (rows as number) < 0))
    return '"rowsAffected" must be a non-negative integer'
  const duration = value.durationMs
  if (duration !== undefined && (typeof duration !== 'number' || !Number.isFinite(duration) || duration < 0))
    return '"durationMs" must be a finite, non-negative number'
  return policyProblem(value.policy)
}

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function nonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0
}
