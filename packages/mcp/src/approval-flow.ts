import type { AuditLog } from '@ddl/audit'
import { type Plan, requiredFlag, type Tier } from '@ddl/classifier'
import type { ExecutorError, GateFlags, MeasuredEffects } from '@ddl/executor/internal'
import type { RequestId } from '@modelcontextprotocol/sdk/types.js'
import { err, ok, type Result } from 'neverthrow'
import {
  type ApprovalGrant,
  type ApprovalRequest,
  type ApprovalState,
  approvalStatus,
  bindingProblem,
  checkGrant,
  newApprovalId,
  type RequestedStatement,
  sqlSha256,
} from './approval.js'
import { type ApprovalEvent, recordApprovalEvent } from './approval-audit.js'
import { ApprovalError } from './approval-error.js'
import { askPerson, canElicit } from './elicitation.js'
import type { DatabaseTarget } from './projects.js'
import { requestedStatements } from './render.js'
import { changedSettingsFiles } from './settings.js'
import type { ToolContext } from './tool-context.js'
import type { ToolError } from './tool-result.js'

/** The work an approval is about: exactly this SQL on this project. */
export interface GateSubject {
  readonly project: string
  /** The exact text the approval is bound to (its SHA-256). */
  readonly sql: string
  /** Its classification (for the person, and one audit record per statement). */
  readonly plan: Plan
  /** The tier that decides: the plan's, or a migration run's highest file tier. */
  readonly tier: Tier
  /** What asks: `execute_sql`, `apply_migrations migrations/`; its first word is the tool an approval is for. */
  readonly origin: string
  /** The audit log the run will write to. */
  readonly log: AuditLog
  /** The statements as the person is shown them (default: those of `plan`). */
  readonly statements?: readonly RequestedStatement[]
  /** For migrations: each file's name and text, shown to the person one by one. */
  readonly files?: readonly { readonly name: string; readonly sql: string }[]
}

/** A subject with the database it goes to, resolved when it is checked. */
interface BoundSubject extends GateSubject {
  readonly target: DatabaseTarget
}

/** Whether, and on whose word, the work may run. */
export type Clearance =
  /** The tier runs without a person (`mcp.unattendedTiers`). */
  | { readonly kind: 'unattended'; readonly flags: GateFlags }
  /**
   * A person approved exactly this; the approval is now used. `expectedEffects`: what the rehearsal
   * the person was shown measured; the run is held to it.
   */
  | {
      readonly kind: 'approved'
      readonly flags: GateFlags
      readonly grant: ApprovalGrant
      readonly expectedEffects: MeasuredEffects | undefined
    }
  /** It waits for a person. */
  | { readonly kind: 'pending'; readonly request: ApprovalRequest; readonly reused: boolean }

/** What a rehearsal showed: fact lines for the person, and the measured effects the run is held to. */
export interface RehearsalSummary {
  readonly facts: readonly string[]
  readonly effects?: MeasuredEffects
}

/** How the flow rehearses the work before asking: what it showed, or why it could not. */
export type Rehearse = () => Promise<Result<RehearsalSummary, ExecutorError>>

/** Options of {@link clearWork}. */
export interface ClearOptions {
  /** The approval the agent names, if it names one. */
  readonly approvalId?: string | undefined
  /** Rehearses the work (called once, only when a new request is made and rehearsals are on). */
  readonly rehearse?: Rehearse
  readonly relatedRequestId?: RequestId
  readonly signal?: AbortSignal
}

/** SQLSTATEs of a rehearsal that ran out of time: lock_not_available, query_canceled (statement_timeout). */
const BUSY: ReadonlySet<string> = new Set(['55P03', '57014'])

/** The tool named by an origin (`apply_migrations migrations/ (...)` → `apply_migrations`). */
function toolOf(origin: string): string {
  return origin.split(' ')[0] ?? origin
}

/** The flag a tier needs, as the server passes it for an unattended tier or an approval. Never throws. */
export function flagsFor(tier: Tier): GateFlags {
  const flag = requiredFlag(tier)
  return { confirm: flag === 'confirm', iKnowWhatImDoing: flag === 'iKnowWhatImDoing' }
}

/**
 * Decides whether work may run: at once when its tier is unattended; once when a person approved
 * exactly this SQL on this project (the approval is marked used before returning); otherwise it
 * makes (or finds) a pending approval request, rehearses the work for it, records it in the audit
 * log, and asks the person through the client's prompt when the client can show one.
 *
 * Fails with `ApprovalError` (denied, expired, used, other SQL, other project, store), `AuditError`
 * (the step could not be recorded: nothing runs), or the rehearsal's error when the rehearsal shows
 * the work would fail. Never throws.
 */
export async function clearWork(
  ctx: ToolContext,
  subject: GateSubject,
  options: ClearOptions = {},
): Promise<Result<Clearance, ToolError>> {
  if (ctx.settings.unattendedTiers.includes(subject.tier)) {
    return ok({ kind: 'unattended', flags: flagsFor(subject.tier) })
  }
  // Where the work would go, read now (the cluster's identifier too): an approval binds to it.
  const resolved = await ctx.projects.target(subject.project)
  if (resolved.isErr()) return err(resolved.error)
  const bound: BoundSubject = { ...subject, target: resolved.value }
  const sha = sqlSha256(subject.sql)
  if (options.approvalId !== undefined) {
    const state = await ctx.store.read(options.approvalId)
    if (state.isErr()) return refuse(ctx, bound, state.error)
    return settle(ctx, bound, options.approvalId, state.value, sha, options)
  }

  const listed = await ctx.store.list()
  if (listed.isErr()) return err(listed.error)
  const now = ctx.now()
  const same = listed.value.filter(
    (s) =>
      s.request?.project === subject.project &&
      s.request.server === ctx.serverId &&
      s.request.sqlSha256 === sha &&
      toolOf(s.request.origin) === toolOf(subject.origin),
  )
  const approved = same.find((s) => approvalStatus(s, now) === 'approved')
  if (approved?.request !== undefined) {
    const settled = await settle(ctx, bound, approved.request.id, approved, sha, options)
    // A grant this server does not trust (a forged file) is refused and recorded; the work then
    // waits for a person on a new request rather than on the poisoned one.
    if (settled.isOk() || settled.error.kind !== 'ApprovalError' || settled.error.problem !== 'untrusted')
      return settled
    return newRequest(ctx, bound, sha, options)
  }
  const pending = same.find((s) => approvalStatus(s, now) === 'pending')
  if (pending?.request !== undefined) return settle(ctx, bound, pending.request.id, pending, sha, options)
  return newRequest(ctx, bound, sha, options)
}

/** Uses an approval that exists: run it when granted, ask again when pending, refuse otherwise. */
async function settle(
  ctx: ToolContext,
  subject: BoundSubject,
  id: string,
  state: ApprovalState,
  sha: string,
  options: ClearOptions,
): Promise<Result<Clearance, ToolError>> {
  const request = state.request
  if (request !== undefined && state.use === undefined && state.denial === undefined) {
    const binding = bindingProblem(id, request, { project: subject.project, sqlSha256: sha })
    if (binding !== undefined) return refuse(ctx, subject, binding)
    const tool = toolOf(subject.origin)
    if (toolOf(request.origin) !== tool) {
      return refuse(
        ctx,
        subject,
        new ApprovalError(
          `Approval ${id} was given for ${toolOf(request.origin)}, not ${tool}. Nothing ran; call ${toolOf(request.origin)} with it.`,
          { problem: 'tool-mismatch', approvalId: id },
        ),
      )
    }
  }
  const checked = checkGrant(state, {
    id,
    project: subject.project,
    sqlSha256: sha,
    server: ctx.serverId,
    target: subject.target,
    publicKey: ctx.settings.approvals.publicKey,
    tier: subject.tier,
    now: ctx.now(),
    ttlSeconds: ctx.settings.approvals.ttlSeconds,
    channels: ctx.settings.approvals.channels,
  })
  if (checked.isOk()) return consume(ctx, subject, checked.value, request)
  if (checked.error.problem !== 'not-approved' || request === undefined) return refuse(ctx, subject, checked.error)
  return ask(ctx, subject, request, true, options)
}

async function newRequest(
  ctx: ToolContext,
  subject: BoundSubject,
  sha: string,
  options: ClearOptions,
): Promise<Result<Clearance, ToolError>> {
  const channels = ctx.settings.approvals.channels
  if (!channels.includes('cli') && !canElicit(ctx.server)) {
    return refuse(
      ctx,
      subject,
      new ApprovalError(
        `This ${subject.tier} work needs a person's approval, and this server takes approvals only through the ` +
          "client's own prompt (MCP elicitation), which this client does not offer. Nothing ran.",
        { problem: 'not-approved' },
      ),
    )
  }
  let rehearsal: readonly string[] | undefined
  let rehearsalEffects: MeasuredEffects | undefined
  if (ctx.settings.rehearse && options.rehearse !== undefined) {
    const rehearsed = await options.rehearse()
    if (rehearsed.isErr()) {
      const e = rehearsed.error
      // Refused (a rollback could not undo it) or out of time: the person is told, and still asked.
      // Any other failure means the real run would fail the same way: no one is asked.
      const busy = e.kind === 'PostgresError' && BUSY.has(e.code)
      if (e.kind !== 'SafetyError' && !busy) return err(e)
      rehearsal = [`Not rehearsed: ${e.message.split('\n')[0] ?? e.message}`]
    } else {
      rehearsal = rehearsed.value.facts
      rehearsalEffects = rehearsed.value.effects
    }
  }
  const now = ctx.now()
  const request: ApprovalRequest = {
    v: 1,
    id: newApprovalId(),
    project: subject.project,
    sql: subject.sql,
    sqlSha256: sha,
    tier: subject.tier,
    statements: subject.statements ?? requestedStatements(subject.plan),
    rehearsal,
    ...(subject.files !== undefined ? { files: subject.files } : {}),
    server: ctx.serverId,
    target: subject.target,
    ...(rehearsalEffects !== undefined ? { rehearsalEffects } : {}),
    origin: subject.origin,
    requestedBy: ctx.actor(),
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + ctx.settings.approvals.ttlSeconds * 1000).toISOString(),
  }
  const saved = await ctx.store.saveRequest(request)
  if (saved.isErr()) return err(saved.error)
  const recorded = await record(subject, { step: 'requested', id: request.id, actor: ctx.actor() })
  if (recorded.isErr()) return err(recorded.error)
  return ask(ctx, subject, request, false, options)
}

/** Asks the person in the client's prompt when that is possible and allowed; else the request waits. */
async function ask(
  ctx: ToolContext,
  subject: BoundSubject,
  request: ApprovalRequest,
  reused: boolean,
  options: ClearOptions,
): Promise<Result<Clearance, ToolError>> {
  const pending: Clearance = { kind: 'pending', request, reused }
  if (!ctx.settings.approvals.channels.includes('elicitation') || !canElicit(ctx.server)) return ok(pending)
  const answer = await askPerson(ctx.server, request, {
    timeoutMs: ctx.settings.approvals.elicitationTimeoutSeconds * 1000,
    ...(options.relatedRequestId !== undefined ? { relatedRequestId: options.relatedRequestId } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  })
  const person = `person via ${ctx.actor()}`
  if (answer === 'no-answer') return ok(pending)
  if (answer === 'declined') {
    const denied = await ctx.store.deny({ v: 1, id: request.id, deniedBy: person, deniedAt: ctx.now().toISOString() })
    if (denied.isErr() && denied.error.problem !== 'denied') return err(denied.error)
    const recorded = await record(subject, { step: 'denied', id: request.id, actor: person })
    if (recorded.isErr()) return err(recorded.error)
    return err(
      new ApprovalError(`The person declined approval ${request.id} in the client's prompt. Nothing ran.`, {
        problem: 'denied',
        approvalId: request.id,
      }),
    )
  }
  // Approved in the client's prompt: the grant lives in memory only and is used at once.
  const grant = grantOf(request, person, 'elicitation', ctx.now())
  const recorded = await record(subject, {
    step: 'approved',
    id: request.id,
    actor: person,
    via: 'the client prompt',
    tier: grant.tier,
    expiresAt: grant.expiresAt,
  })
  if (recorded.isErr()) return err(recorded.error)
  return consume(ctx, subject, grant, request)
}

/** Marks the approval used (exclusively), then clears the work to run with the flag its tier needs. */
async function consume(
  ctx: ToolContext,
  subject: BoundSubject,
  grant: ApprovalGrant,
  request: ApprovalRequest | undefined,
): Promise<Result<Clearance, ToolError>> {
  // The server runs on what it read at start; a settings file changed since means someone is moving
  // things under the person's approval: refuse rather than guess which database they meant.
  const changed = changedSettingsFiles(ctx.settings.snapshot)
  if (changed.length > 0) {
    return refuse(
      ctx,
      subject,
      new ApprovalError(
        `Approval ${grant.id} was not used: ${changed.join(' and ')} changed after this server started. The server ` +
          'keeps the settings it started with and runs no approved work while they differ. Nothing ran. A person ' +
          'restores the file or restarts the server, then reviews a new request.',
        { problem: 'settings-changed', approvalId: grant.id },
      ),
    )
  }
  const used = await ctx.store.markUsed({ v: 1, id: grant.id, usedBy: ctx.actor(), usedAt: ctx.now().toISOString() })
  if (used.isErr()) return refuse(ctx, subject, used.error)
  return ok({ kind: 'approved', flags: flagsFor(grant.tier), grant, expectedEffects: request?.rehearsalEffects })
}

/** Records a refused approval in the audit log, and returns the refusal. */
async function refuse(
  ctx: ToolContext,
  subject: GateSubject,
  error: ApprovalError,
): Promise<Result<Clearance, ToolError>> {
  const recorded = await record(subject, {
    step: 'refused',
    id: error.approvalId,
    actor: ctx.actor(),
    reason: error.message.split('\n')[0] ?? error.message,
  })
  if (recorded.isErr()) ctx.log(`The refusal of an approval could not be recorded: ${recorded.error.message}`)
  return err(error)
}

function record(subject: GateSubject, event: ApprovalEvent) {
  return recordApprovalEvent(subject.log, subject.project, subject.plan, event)
}

function grantOf(request: ApprovalRequest, approvedBy: string, via: ApprovalGrant['via'], now: Date): ApprovalGrant {
  return {
    v: 1,
    id: request.id,
    project: request.project,
    sqlSha256: request.sqlSha256,
    tier: request.tier,
    approvedBy,
    approvedAt: now.toISOString(),
    expiresAt: request.expiresAt,
    via,
    server: request.server,
    target: request.target,
  }
}
