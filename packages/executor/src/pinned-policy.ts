/**
 * Lowering a tier is a person's act: the part of a policy that lowers a tier takes effect only for
 * the exact policy a person approved (`ddl policy approve`, an audit record). The part that only
 * raises tiers always applies. This file is the one place that draws the line.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import { type AuditEntry, canonicalJson, hashRecord } from '@ddl/audit'
import { allRules, compareTiers, isTier, type Policy, type Tier } from '@ddl/classifier'

/** One part of a policy that can lower a tier, as a person reads it. */
export interface LoweringPart {
  /** Where it is in the policy: `rules.drop-table`, `allow[0]`, or an unknown key. */
  readonly where: string
  /** What it does, e.g. `drop-table: destructive → safe`. */
  readonly description: string
}

/** A policy split into the part that always applies and the part that needs a person's approval. */
export interface EffectivePolicy {
  /** The policy to classify with: the whole policy when approved (or raise-only), else its raise-only part. */
  readonly policy: Policy | undefined
  /** SHA-256 (hex) of the whole policy's canonical JSON; `undefined` without a policy. */
  readonly hash: string | undefined
  /** The parts that lower a tier (empty for a raise-only policy). */
  readonly lowering: readonly LoweringPart[]
  /** True when the lowering parts are in effect (a person approved this exact policy). */
  readonly approved: boolean
  /** Said to the person or agent when lowering parts are ignored; `undefined` otherwise. */
  readonly warning: string | undefined
}

/** A person's approval of a policy, read from the audit log. */
export interface PolicyApproval {
  readonly hash: string
  readonly actor: string
  readonly time: string
}

/** The `source` of the audit record `ddl policy approve` writes. */
export const POLICY_APPROVAL_SOURCE = 'ddl policy approve'

const RULE_TIERS: ReadonlyMap<string, { tier: Tier; hazard: boolean }> = new Map(
  allRules.map((r) => [r.id, { tier: r.tier, hazard: r.hazard === true }]),
)
const RAISE_ONLY_KEYS = new Set(['hazardsRaiseTier'])

/** SHA-256 (hex) over the canonical JSON of a policy (keys sorted at every depth). Never throws. */
export function policyHash(policy: Policy): string {
  return createHash('sha256')
    .update(canonicalJson(policy as unknown as Parameters<typeof canonicalJson>[0]), 'utf8')
    .digest('hex')
}

/**
 * Splits a policy into its raise-only part and the parts that could lower a tier. Lowering: a rule
 * moved below its own tier (or a tier rule turned `off`), every `allow` entry, any key this version
 * does not know (fail closed). Raise-only: rules moved up, hazard rules, `hazardsRaiseTier`. Never throws.
 */
export function splitPolicy(policy: Policy): { readonly raise: Policy; readonly lowering: readonly LoweringPart[] } {
  const lowering: LoweringPart[] = []
  const raise: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(policy as Record<string, unknown>)) {
    if (value === undefined) continue
    if (RAISE_ONLY_KEYS.has(key)) raise[key] = value
    else if (key === 'rules' && isRecord(value)) {
      const kept: Record<string, Tier | 'off'> = {}
      for (const [rule, tier] of Object.entries(value)) {
        const known = RULE_TIERS.get(rule)
        const raising = known !== undefined && (known.hazard || (isTier(tier) && compareTiers(tier, known.tier) >= 0))
        if (raising) kept[rule] = tier as Tier | 'off'
        else
          lowering.push({
            where: `rules.${rule}`,
            description: `${rule}: ${known?.tier ?? 'unknown rule'} → ${String(tier)}`,
          })
      }
      if (Object.keys(kept).length > 0) raise.rules = kept
    } else if (key === 'allow' && Array.isArray(value)) {
      value.forEach((entry: unknown, i) => {
        const e = isRecord(entry) ? entry : {}
        const objects = Array.isArray(e.objects) ? e.objects.map(String).join(', ') : '?'
        const rule = String(e.rule)
        lowering.push({
          where: `allow[${i}]`,
          description: `${rule} on ${objects}: ${RULE_TIERS.get(rule)?.tier ?? 'unknown rule'} → ${isTier(e.tier) ? e.tier : 'safe'}`,
        })
      })
    } else if (key === 'allowEffects') {
      lowering.push({ where: key, description: 'allowEffects: effects the effect check lets through without the flag' })
    } else lowering.push({ where: key, description: `"${key}" (not known to this version: treated as lowering)` })
  }
  return { raise: raise as Policy, lowering }
}

/**
 * The policy to classify with: the raise-only part always; the lowering parts only when `approvals`
 * holds this exact policy's hash. Never throws.
 *
 * @example
 * effectivePolicy({ rules: { 'drop-table': 'safe' } }, []).policy // {} (and a warning)
 */
export function effectivePolicy(
  policy: Policy | undefined,
  approvals: readonly PolicyApproval[] | (() => readonly PolicyApproval[]),
): EffectivePolicy {
  if (policy === undefined) return { policy, hash: undefined, lowering: [], approved: false, warning: undefined }
  const hash = policyHash(policy)
  const { raise, lowering } = splitPolicy(policy)
  if (lowering.length === 0) return { policy, hash, lowering, approved: false, warning: undefined }
  const list = typeof approvals === 'function' ? approvals() : approvals
  if (list.some((a) => a.hash === hash)) return { policy, hash, lowering, approved: true, warning: undefined }
  const earlier = list.length > 0 ? ' It was edited since a person last approved a policy here.' : ''
  return {
    policy: raise,
    hash,
    lowering,
    approved: false,
    warning:
      `the policy lowers tiers (${lowering.map((l) => l.description).join('; ')}) and is not approved ` +
      `(policy ${hash.slice(0, 12)}).${earlier} Running with its raise-only part. ` +
      'A person approves it with: ddl policy approve',
  }
}

/**
 * The policy approvals recorded in an audit log file: records written by `ddl policy approve`
 * whose own hash is intact. A missing or unreadable file holds none. Never throws.
 */
export function readPolicyApprovals(path: string): PolicyApproval[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  const approvals: PolicyApproval[] = []
  for (const line of text.split('\n')) {
    if (!line.includes('"approved":true')) continue
    try {
      const record = JSON.parse(line) as Record<string, unknown>
      const policy = record.policy as Record<string, unknown> | undefined
      if (record.source !== POLICY_APPROVAL_SOURCE || policy?.approved !== true) continue
      if (typeof policy.hash !== 'string' || typeof record.actor !== 'string' || typeof record.time !== 'string')
        continue
      if (hashRecord(record as never) !== record.hash) continue
      approvals.push({ hash: policy.hash, actor: record.actor, time: record.time })
    } catch {
      // not a record: `ddl audit verify` reports it
    }
  }
  return approvals
}

/** The OS user, the approver a policy approval names. Never throws. */
export function osUser(): string {
  try {
    return userInfo().username || 'unknown'
  } catch {
    return 'unknown'
  }
}

/**
 * The audit entry of a person approving a policy: the policy's canonical JSON as the statement,
 * its hash and `approved: true`, the OS user as actor. Never throws.
 */
export function policyApprovalEntry(project: string, policy: Policy, actor: string = osUser()): AuditEntry {
  return {
    project,
    tier: 'safe',
    statement: canonicalJson(policy as unknown as Parameters<typeof canonicalJson>[0]),
    flags: { confirm: false, iKnowWhatImDoing: false, dryRun: true, rehearse: false },
    outcome: 'dry_run',
    source: POLICY_APPROVAL_SOURCE,
    actor,
    policy: { hash: policyHash(policy), approved: true },
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
