import { createHash, randomBytes } from 'node:crypto'
import { compareTiers, type Finding, type Tier } from '@ddl/classifier'
import type { MeasuredEffects } from '@ddl/executor'
import { err, ok, type Result } from 'neverthrow'
import { ApprovalError } from './approval-error.js'
import type { ApprovalChannel } from './settings.js'

/** One statement of an approval request, as the person is shown it. */
export interface RequestedStatement {
  /** 1-based line in the SQL. */
  readonly line: number
  /** The statement, redacted, on one line. */
  readonly display: string
  readonly kind: string
  readonly tier: Tier
  readonly findings: readonly Finding[]
}

/**
 * What the server asks a person to approve: exactly this SQL, on this project. Written by the server
 * to `requests/<id>.json`. Everything in it is informational except `sql` and `project`: `ddl approve`
 * classifies `sql` again and binds its grant to the SHA-256 of the SQL it showed.
 */
export interface ApprovalRequest {
  readonly v: 1
  readonly id: string
  readonly project: string
  /** The exact SQL, byte for byte as the agent sent it. */
  readonly sql: string
  /** SHA-256 (hex) of `sql` in UTF-8. */
  readonly sqlSha256: string
  readonly tier: Tier
  readonly statements: readonly RequestedStatement[]
  /** What the rehearsal found (run, then rolled back), one fact a line; absent when none ran. */
  readonly rehearsal: readonly string[] | undefined
  /**
   * What the server measured the rehearsal doing (rows per table, cascades included): the approved
   * run is held to it, and rolls back if it does more. Absent when no rehearsal ran.
   */
  readonly rehearsalEffects?: MeasuredEffects | undefined
  /** The tool that asked (`execute_sql`, `apply_migrations`) and what it is about. */
  readonly origin: string
  /** `mcp:<client name>`. */
  readonly requestedBy: string
  readonly createdAt: string
  readonly expiresAt: string
}

/** A person's approval of one request. Written only by `ddl approve` (or held in memory after the client's prompt). */
export interface ApprovalGrant {
  readonly v: 1
  readonly id: string
  readonly project: string
  /** SHA-256 of the SQL the person was shown. */
  readonly sqlSha256: string
  /** The highest tier the person approved. */
  readonly tier: Tier
  /** The OS user of the `ddl approve` process, or `person via <client>` for the client's prompt. */
  readonly approvedBy: string
  readonly approvedAt: string
  readonly expiresAt: string
  readonly via: ApprovalChannel
}

/** A person's refusal. Written by `ddl approve --deny`, or by the server when the person declines in the client's prompt. */
export interface ApprovalDenial {
  readonly v: 1
  readonly id: string
  readonly deniedBy: string
  readonly deniedAt: string
}

/** The mark that an approval let its SQL run: created once, exclusively, by the server that ran it. */
export interface ApprovalUse {
  readonly v: 1
  readonly id: string
  readonly usedBy: string
  readonly usedAt: string
}

/** Everything the store knows about one id. */
export interface ApprovalState {
  readonly request: ApprovalRequest | undefined
  readonly grant: ApprovalGrant | undefined
  readonly denial: ApprovalDenial | undefined
  readonly use: ApprovalUse | undefined
}

/** Where an approval stands. */
export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'used' | 'expired' | 'unknown'

const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'
const ID_PATTERN = /^ap-[0-9a-hjkmnp-tv-z]{10}$/

/**
 * A fresh approval id: `ap-` and ten characters of Crockford base32 (50 random bits). Never throws.
 *
 * @example
 * newApprovalId() // 'ap-7k2m9xq4ra'
 */
export function newApprovalId(): string {
  const bytes = randomBytes(10)
  let id = 'ap-'
  for (const byte of bytes) id += ID_ALPHABET[byte & 31]
  return id
}

/**
 * True for a string of the form {@link newApprovalId} gives (so it is safe in a file name). Never throws.
 *
 * @example
 * isApprovalId('ap-7k2m9xq4ra') // true
 * isApprovalId('../grants/x') // false
 */
export function isApprovalId(value: string): boolean {
  return ID_PATTERN.test(value)
}

/**
 * SHA-256 (hex) of the SQL's UTF-8 bytes: an approval is bound to this, so one changed byte (a space,
 * a letter's case) is other SQL. Never throws.
 *
 * @example
 * sqlSha256('DROP TABLE t') === sqlSha256('DROP TABLE  t') // false
 */
export function sqlSha256(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex')
}

/**
 * Where an approval stands at `now`: `unknown` (no request), `used`, `denied`, `expired`, `approved`
 * or `pending`, in that order of precedence. Never throws.
 *
 * @example
 * approvalStatus(await unwrap(store.read(id)), new Date()) // 'pending'
 */
export function approvalStatus(state: ApprovalState, now: Date): ApprovalStatus {
  if (state.request === undefined) return 'unknown'
  if (state.use !== undefined) return 'used'
  if (state.denial !== undefined) return 'denied'
  const expires = Date.parse(state.grant?.expiresAt ?? state.request.expiresAt)
  if (!(now.getTime() < expires)) return 'expired'
  return state.grant !== undefined ? 'approved' : 'pending'
}

/** What the server checks a grant against. */
export interface GrantCheck {
  readonly id: string
  readonly project: string
  readonly sqlSha256: string
  /** The tier the server's own classification gives the SQL now. */
  readonly tier: Tier
  readonly now: Date
  /** The server's TTL: a grant is never used later than this after its request was made. */
  readonly ttlSeconds: number
  /** The channels the server accepts grants from. */
  readonly channels: readonly ApprovalChannel[]
}

/**
 * Checks that an approval lets exactly this SQL run now: it exists, a person granted it through an
 * accepted channel, nobody denied it, it was not used, it has not expired (by its own time and by the
 * server's TTL), and it is for this project, this SQL (SHA-256) and at least this tier. Fails with
 * `ApprovalError` naming the first problem. Never throws. See {@link bindingProblem}.
 *
 * @example
 * checkGrant(state, { id, project: 'smoothed', sqlSha256: sqlSha256(sql), tier: 'destructive', now: new Date(), ttlSeconds: 900, channels: ['cli'] })
 * // err(ApprovalError { problem: 'sql-mismatch' }) when the SQL differs by one byte
 */
export function checkGrant(state: ApprovalState, check: GrantCheck): Result<ApprovalGrant, ApprovalError> {
  const id = check.id
  const fail = (problem: ApprovalError['problem'], message: string) =>
    err(new ApprovalError(message, { problem, approvalId: id }))
  const { request, grant } = state
  if (request === undefined) {
    return fail('unknown', `There is no approval request ${id} in the approval store. Nothing ran.`)
  }
  if (state.use !== undefined) {
    return fail(
      'used',
      `Approval ${id} was already used at ${state.use.usedAt}: an approval lets its SQL run once. Nothing ran. ` +
        'To run the SQL again, call execute_sql without approval_id to ask for a new approval.',
    )
  }
  if (state.denial !== undefined) {
    return fail('denied', `${state.denial.deniedBy} denied approval ${id} at ${state.denial.deniedAt}. Nothing ran.`)
  }
  const requestExpiry = Math.min(Date.parse(request.expiresAt), Date.parse(request.createdAt) + check.ttlSeconds * 1000)
  const expiry = grant === undefined ? requestExpiry : Math.min(requestExpiry, Date.parse(grant.expiresAt))
  if (!(check.now.getTime() < expiry)) {
    return fail(
      'expired',
      `Approval ${id} expired at ${new Date(Number.isNaN(expiry) ? 0 : expiry).toISOString()}. Nothing ran. ` +
        'Call execute_sql without approval_id to ask for a new approval.',
    )
  }
  if (grant === undefined) {
    return fail('not-approved', `Approval ${id} is still waiting for a person. Nothing ran.`)
  }
  if (!check.channels.includes(grant.via)) {
    return fail(
      'untrusted',
      `Approval ${id} was given through ${grant.via}, which this server does not accept ` +
        `(it accepts: ${check.channels.join(', ')}). Nothing ran.`,
    )
  }
  if (grant.id !== id) {
    return fail('store', `The grant file of ${id} does not match its request. Nothing ran; ask for a new approval.`)
  }
  const binding = bindingProblem(id, grant, check)
  if (binding !== undefined) return err(binding)
  if (compareTiers(check.tier, grant.tier) > 0) {
    return fail(
      'tier-mismatch',
      `Approval ${id} covers ${grant.tier} work, but this SQL classifies as ${check.tier} here. Nothing ran; ` +
        'ask for a new approval.',
    )
  }
  return ok(grant)
}

/**
 * Why an approval (its request or its grant) does not cover this SQL on this project: another
 * project, or other SQL (another SHA-256). Undefined when it does. Never throws.
 *
 * @example
 * bindingProblem(id, request, { project: 'smoothed', sqlSha256: sqlSha256('DROP TABLE other') })?.problem // 'sql-mismatch'
 */
export function bindingProblem(
  id: string,
  bound: { readonly project: string; readonly sqlSha256: string },
  check: { readonly project: string; readonly sqlSha256: string },
): ApprovalError | undefined {
  if (bound.project !== check.project) {
    return new ApprovalError(`Approval ${id} is for project "${bound.project}", not "${check.project}". Nothing ran.`, {
      problem: 'project-mismatch',
      approvalId: id,
    })
  }
  if (bound.sqlSha256 !== check.sqlSha256) {
    return new ApprovalError(
      `Approval ${id} is for other SQL: the approved SQL has SHA-256 ${bound.sqlSha256.slice(0, 12)}…, this SQL ` +
        `${check.sqlSha256.slice(0, 12)}…. Changed SQL needs a new approval: nothing ran. Send the exact SQL that ` +
        'was approved, or call the tool again without approval_id to ask for approval of the new SQL.',
      { problem: 'sql-mismatch', approvalId: id },
    )
  }
  return undefined
}
