import { createHash, type KeyObject, randomBytes, sign, verify } from 'node:crypto'
import { compareTiers, type Finding, type Tier } from '@ddl/classifier'
import type { MeasuredEffects } from '@ddl/executor/internal'
import { err, ok, type Result } from 'neverthrow'
import { ApprovalError } from './approval-error.js'
import { type DatabaseTarget, describeTarget } from './projects.js'
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
  /** The migration file it is in (apply_migrations), as named on disk. */
  readonly file?: string | undefined
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
   * For `apply_migrations`: each pending file's name and exact text, in order. `ddl approve`
   * classifies each file alone (as the run will) instead of `sql`, which joins them.
   */
  readonly files?: readonly { readonly name: string; readonly sql: string }[] | undefined
  /** The server instance that asked (a random id per start, or `cli` for `ddl exec`/`ddl migrate`). */
  readonly server: string
  /** The database the work goes to, as the server resolved it at start. */
  readonly target: DatabaseTarget
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
  /** The server instance whose request this answers: no other server may use it. */
  readonly server: string
  /** The database the person was shown: the work runs there or not at all. */
  readonly target: DatabaseTarget
  /** Base64 Ed25519 signature of {@link grantPayload} by the approver's key, when one is used. */
  readonly signature?: string | undefined
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

/**
 * The exact bytes an approver's key signs: every field of a grant but the signature, in a fixed
 * order. Never throws.
 *
 * @example
 * grantPayload(grant) // '["safe-ddl grant v1","ap-7k2m9xq4ra","default",...]'
 */
export function grantPayload(grant: ApprovalGrant): string {
  return JSON.stringify([
    'safe-ddl grant v1',
    grant.id,
    grant.project,
    grant.sqlSha256,
    grant.tier,
    grant.server,
    grant.target.host,
    grant.target.port,
    grant.target.database,
    grant.target.systemIdentifier ?? null,
    grant.approvedBy,
    grant.approvedAt,
    grant.expiresAt,
    grant.via,
  ])
}

/**
 * Signs a grant with the approver's private key (Ed25519). Throws when the key cannot sign (a wrong
 * passphrase): the caller (`ddl approve`) reports it.
 */
export function signGrant(grant: ApprovalGrant, privateKey: KeyObject): ApprovalGrant {
  const signature = sign(null, Buffer.from(grantPayload(grant), 'utf8'), privateKey).toString('base64')
  return { ...grant, signature }
}

/**
 * True when the grant carries a valid signature by the private key of `publicKey`. Never throws.
 *
 * @example
 * grantSignatureValid(forged, settings.approvals.publicKey) // false
 */
export function grantSignatureValid(grant: ApprovalGrant, publicKey: KeyObject): boolean {
  if (grant.signature === undefined) return false
  try {
    return verify(null, Buffer.from(grantPayload(grant), 'utf8'), publicKey, Buffer.from(grant.signature, 'base64'))
  } catch {
    return false
  }
}

/**
 * Why a target differs from the one an approval was given for, or `undefined` when it is the same
 * database. Never throws.
 */
export function targetProblem(bound: DatabaseTarget, now: DatabaseTarget): string | undefined {
  const same =
    bound.host === now.host &&
    bound.port === now.port &&
    bound.database === now.database &&
    (bound.systemIdentifier ?? null) === (now.systemIdentifier ?? null)
  return same
    ? undefined
    : `it was given for ${describeTarget(bound)}, and this work would go to ${describeTarget(now)}`
}

/**
 * The text an `apply_migrations` approval is bound to: each pending file in order, after a comment
 * line with its name written as a JSON string (so a newline or a dollar quote in a name stays inside
 * the comment). `ddl approve` checks that a request's `sql` is exactly this of its `files`. Never throws.
 *
 * @example
 * migrationBundle([{ name: '001_a.sql', sql: 'CREATE TABLE a ()' }]) // '-- migration: "001_a.sql"\nCREATE TABLE a ()\n;\n'
 */
export function migrationBundle(files: readonly { readonly name: string; readonly sql: string }[]): string {
  return files.map((f) => `-- migration: ${JSON.stringify(f.name)}\n${f.sql}\n;\n`).join('')
}

/** What the server checks a grant against. */
export interface GrantCheck {
  readonly id: string
  readonly project: string
  readonly sqlSha256: string
  /** This server instance's id: a grant for another instance is refused. */
  readonly server: string
  /** Where the work would go now. */
  readonly target: DatabaseTarget
  /** The approver's public key: when set, a grant through `cli` needs its valid signature. */
  readonly publicKey?: KeyObject | undefined
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
  if (grant.via === 'cli' && check.publicKey !== undefined && !grantSignatureValid(grant, check.publicKey)) {
    return fail(
      'untrusted',
      `The grant of ${id} is not signed by the approver's key this server trusts: it was not given with ` +
        '`ddl approve --key`, or it was changed after. Nothing ran.',
    )
  }
  if (grant.server !== check.server || request.server !== check.server) {
    return fail(
      'server-mismatch',
      `Approval ${id} was asked for by another server instance (${grant.server}), not this one (${check.server}): ` +
        'an approval is used only by the server that asked for it. Nothing ran; ask for a new approval.',
    )
  }
  const moved = targetProblem(grant.target, check.target) ?? targetProblem(request.target, check.target)
  if (moved !== undefined) {
    return fail('target-mismatch', `Approval ${id} is for another database: ${moved}. Nothing ran.`)
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
