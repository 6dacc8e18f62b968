import type { Plan, Tier } from '@ddl/classifier'
import type { GateFlags, PostgresAPI } from '@ddl/executor/internal'
import {
  type ApprovalRequest,
  ApprovalStore,
  agentMarkers,
  approvalStatus,
  checkGrant,
  databaseTarget,
  describeTarget,
  flagsFor,
  loadSettings,
  newApprovalId,
  type RequestedStatement,
  recordApprovalEvent,
  SINGLE_ACCOUNT_WARNING,
  singleAccount,
  sqlSha256,
  statementLines,
  tierName,
  trustsAgentFlags,
} from '@ddl/mcp'
import { EXIT, type Io } from './io.js'

/** The server id of requests made by `ddl exec` / `ddl migrate` under an agent. */
const CLI_SERVER = 'cli'

/** Work an agent asked to run with an override flag. */
export interface AgentWork {
  /** `ddl exec` or `ddl migrate DIR`: the first two words name the command an approval is for. */
  readonly origin: string
  readonly project: string | undefined
  /** The exact text the approval binds (the SQL, or the migration bundle). */
  readonly sql: string
  readonly files?: readonly { readonly name: string; readonly sql: string }[]
  readonly plan: Plan
  readonly statements: readonly RequestedStatement[]
  readonly tier: Tier
  /** The flag the agent typed, as typed. */
  readonly flag: string
}

/** Run with these flags, as a person approved; or stop with this exit code (a message was printed). */
export type AgentClearance =
  | { readonly kind: 'run'; readonly flags: GateFlags; readonly source: string | undefined }
  | { readonly kind: 'stop'; readonly code: number }

/**
 * True when an override flag typed here counts only as a request: the environment shows a coding
 * agent (see `agentMarkers`) and the person did not set `DDL_TRUST_AGENT_FLAGS=1`. Never throws.
 */
export function flagsAreRequests(io: Io): boolean {
  return agentMarkers(io.env).length > 0 && !trustsAgentFlags(io.env)
}

/**
 * Under a coding agent, an override flag is a request: the work runs only on a person's approval
 * (the same store and `ddl approve` as the MCP server's), once. The first call makes a pending
 * approval and stops; after `ddl approve ID`, the same command runs once. Never throws.
 */
export async function clearAgentWork(
  io: Io,
  db: PostgresAPI,
  work: AgentWork,
  command: string,
): Promise<AgentClearance> {
  const say = (text: string) => io.stderr(`${command}: ${text}\n`)
  if (work.tier === 'safe') return { kind: 'run', flags: {}, source: undefined }
  const markers = agentMarkers(io.env).join(', ')
  const settings = loadSettings({ cwd: io.cwd }, io.env)
  if (settings.isErr()) {
    say(settings.error.message)
    return { kind: 'stop', code: EXIT.usage }
  }
  const s = settings.value
  const context = db.context()
  if (context.isErr()) {
    say(context.error.message)
    return { kind: 'stop', code: EXIT.usage }
  }
  const target = await databaseTarget(db)
  if (target.isErr()) {
    say(target.error.message)
    return { kind: 'stop', code: EXIT.failed }
  }
  const store = new ApprovalStore(s.approvals.dir, {
    approverUids: s.approvals.approverUids,
    shared: s.approvals.shared,
  })
  const project = work.project ?? 'default'
  const sha = sqlSha256(work.sql)
  const listed = await store.list()
  if (listed.isErr()) {
    say(listed.error.message)
    return { kind: 'stop', code: EXIT.failed }
  }
  const now = new Date()
  const same = listed.value.filter(
    (st) =>
      st.request?.server === CLI_SERVER &&
      st.request.project === project &&
      st.request.sqlSha256 === sha &&
      st.request.origin === work.origin,
  )
  const approved = same.find((st) => approvalStatus(st, now) === 'approved')
  if (approved?.request !== undefined) {
    const id = approved.request.id
    const checked = checkGrant(approved, {
      id,
      project,
      sqlSha256: sha,
      server: CLI_SERVER,
      target: target.value,
      publicKey: s.approvals.publicKey,
      tier: work.tier,
      now,
      ttlSeconds: s.approvals.ttlSeconds,
      channels: ['cli'],
    })
    if (checked.isErr()) {
      say(`${checked.error.message}`)
      return { kind: 'stop', code: EXIT.failed }
    }
    const used = await store.markUsed({ v: 1, id, usedBy: `${command} (agent: ${markers})`, usedAt: now.toISOString() })
    if (used.isErr()) {
      say(used.error.message)
      return { kind: 'stop', code: EXIT.failed }
    }
    say(`running with approval ${id} (approved by ${checked.value.approvedBy}); the approval is now used.`)
    return {
      kind: 'run',
      flags: flagsFor(checked.value.tier),
      source: `agent approval ${id} (approved by ${checked.value.approvedBy} via cli)`,
    }
  }
  let request = same.find((st) => approvalStatus(st, now) === 'pending')?.request
  const reused = request !== undefined
  if (request === undefined) {
    const made: ApprovalRequest = {
      v: 1,
      id: newApprovalId(),
      project,
      sql: work.sql,
      sqlSha256: sha,
      tier: work.tier,
      statements: [...work.statements],
      rehearsal: undefined,
      ...(work.files !== undefined ? { files: work.files } : {}),
      server: CLI_SERVER,
      target: target.value,
      origin: work.origin,
      requestedBy: `${command} under ${markers}`,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + s.approvals.ttlSeconds * 1000).toISOString(),
    }
    const saved = await store.saveRequest(made)
    if (saved.isErr()) {
      say(saved.error.message)
      return { kind: 'stop', code: EXIT.failed }
    }
    const recorded = await recordApprovalEvent(context.value.audit.log, project, work.plan, {
      step: 'requested',
      id: made.id,
      actor: made.requestedBy,
    })
    if (recorded.isErr()) {
      say(recorded.error.message)
      return { kind: 'stop', code: EXIT.failed }
    }
    request = made
  }
  const lines = [
    `not run. The environment shows a coding agent (${markers}), so ${work.flag} is a request, not a permission: ` +
      `this ${tierName(work.tier)} work waits for a person. Nothing was changed.`,
    `${reused ? 'Still waiting' : 'Waiting'} for approval ${request.id} (project "${project}", database ${describeTarget(
      request.target,
    )}, expires ${request.expiresAt}).`,
    'Statements:',
    ...statementLines(request.statements),
    `Next step: a person reviews and approves it in their own terminal: ddl approve ${request.id}`,
    'Then run the same command again: it runs once. (A person who accepts override flags typed under an agent ' +
      'sets DDL_TRUST_AGENT_FLAGS=1 in their own environment; see docs/agents.md.)',
  ]
  if (singleAccount(s)) lines.push(`Warning for the person: ${SINGLE_ACCOUNT_WARNING}`)
  io.stderr(`${command}: ${lines.join('\n')}\n`)
  io.stdout(
    `${JSON.stringify({ ok: false, pending_approval: request.id, approve_command: `ddl approve ${request.id}` })}\n`,
  )
  return { kind: 'stop', code: EXIT.failed }
}
