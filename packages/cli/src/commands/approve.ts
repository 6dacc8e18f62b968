import { userInfo } from 'node:os'
import { createInterface } from 'node:readline/promises'
import { compareTiers, maxTier, type Plan } from '@ddl/classifier'
import { classifySql, createContext } from '@ddl/executor'
import {
  type ApprovalGrant,
  type ApprovalState,
  type ApprovalStatus,
  ApprovalStore,
  approvalStatus,
  loadSettings,
  type McpSettings,
  recordApprovalEvent,
  requestedStatements,
  sqlSha256,
  statementLines,
  tierName,
} from '@ddl/mcp'
import type { Command } from 'commander'
import { type Colors, colors, EXIT, type Io } from '../io.js'
import type { CommandContext, Register } from '../program.js'

const HELP = `
An AI agent using safe-ddl's MCP server (ddl mcp) cannot run cautious or destructive SQL on its own:
it gets an approval id, and a person approves it here, in their own terminal. The approval is bound
to the SHA-256 of the exact SQL shown and to its project, expires with its request (15 minutes by
default), and lets that SQL run once. Approving and denying are recorded in the audit log with your
OS user.

Review the SQL before approving: it is shown in full, with its tiers, what could be lost, and what the
server's rehearsal found (reported by the server: the classification shown is made here).

Do not let the agent run this command (deny "ddl approve" in its shell permissions): anyone who can
run it as you can approve. docs/agents.md explains the trust boundary and stronger setups.

Examples:
  $ ddl approve                     # list the requests waiting for a person
  $ ddl approve ap-7k2m9xq4ra       # show one, then ask before approving it
  $ ddl approve --deny ap-7k2m9xq4ra
`

interface ApproveOptions {
  readonly list?: boolean
  readonly deny?: string
  readonly yes?: boolean
  readonly dir?: string
  readonly json?: boolean
}

/** Registers `ddl approve [ID] [--list] [--deny ID]`. */
export const registerApprove: Register = (program: Command, ctx: CommandContext) => {
  program
    .command('approve')
    .description("approve (or deny) an AI agent's pending cautious or destructive SQL, once")
    .argument('[id]', 'the approval id the agent was given (ap-...)')
    .option('--list', 'list the requests waiting for a person (the default without an id)')
    .option('--deny <id>', 'refuse a request; the agent is told it was denied')
    .option('--yes', 'approve without asking (for scripts; never give this to an agent)')
    .option('--dir <path>', 'the approval store (default: $DDL_APPROVALS_DIR, else ~/.local/state/safe-ddl/approvals)')
    .option('--json', 'print JSON')
    .addHelpText('after', HELP)
    .action(async (id: string | undefined, options: ApproveOptions) => {
      ctx.exitCode = await approve(ctx.io, id, options)
    })
}

async function approve(io: Io, id: string | undefined, options: ApproveOptions): Promise<number> {
  const settings = loadSettings(
    options.dir === undefined ? { cwd: io.cwd } : { cwd: io.cwd, approvalsDir: options.dir },
    io.env,
  )
  if (settings.isErr()) return fail(io, settings.error.message, EXIT.usage)
  const store = new ApprovalStore(settings.value.approvals.dir, {
    approverUids: settings.value.approvals.approverUids,
    shared: settings.value.approvals.shared,
  })
  if (options.deny !== undefined) return deny(io, store, options.deny, options)
  if (id === undefined || options.list === true) return list(io, store, options)
  return grant(io, store, settings.value, id, options)
}

async function list(io: Io, store: ApprovalStore, options: ApproveOptions): Promise<number> {
  const states = await store.list()
  if (states.isErr()) return fail(io, states.error.message, EXIT.usage)
  const now = new Date()
  const waiting = states.value.filter((s) => approvalStatus(s, now) === 'pending')
  if (options.json === true) {
    io.stdout(
      `${JSON.stringify(
        waiting.map((s) => ({
          id: s.request?.id,
          project: s.request?.project,
          tier: s.request?.tier,
          requestedBy: s.request?.requestedBy,
          createdAt: s.request?.createdAt,
          expiresAt: s.request?.expiresAt,
          statements: s.request?.statements.map((st) => st.display),
        })),
      )}\n`,
    )
    return EXIT.ok
  }
  if (waiting.length === 0) {
    io.stdout(`No approval requests are waiting (store: ${store.dir}).\n`)
    return EXIT.ok
  }
  const c = colors(io)
  for (const s of waiting) {
    const r = s.request
    if (r === undefined) continue
    const first = r.statements[0]?.display ?? ''
    const more = r.statements.length > 1 ? ` (+${r.statements.length - 1} more)` : ''
    io.stdout(
      `${c.bold(r.id)}  ${paintTier(c, r.tier)}  ${r.project}  ${ago(r.createdAt, now)}, expires in ${until(r.expiresAt, now)}  ` +
        `${safeText(r.requestedBy)}\n  ${safeText(first)}${more}\n`,
    )
  }
  io.stdout(`\nReview one with: ddl approve ID\n`)
  return EXIT.ok
}

async function grant(
  io: Io,
  store: ApprovalStore,
  settings: McpSettings,
  id: string,
  options: ApproveOptions,
): Promise<number> {
  const read = await store.read(id)
  if (read.isErr()) return fail(io, read.error.message, EXIT.failed)
  const state = read.value
  const now = new Date()
  const status = approvalStatus(state, now)
  const request = state.request
  if (status !== 'pending' || request === undefined) return fail(io, notPending(id, status, state), EXIT.failed)
  if (sqlSha256(request.sql) !== request.sqlSha256) {
    return fail(io, `The request ${id} is damaged: its SQL does not match its SHA-256. Not approved.`, EXIT.failed)
  }
  const context = createContext(undefined, { cwd: io.cwd, env: io.env })
  if (context.isErr()) return fail(io, context.error.message, EXIT.usage)
  const classified = await classifySql(request.sql, context.value.classifyOptions)
  if (classified.isErr())
    return fail(io, `The request's SQL cannot be classified: ${classified.error.message}`, EXIT.failed)
  const plan = classified.value
  const tier = maxTier(plan.tier, request.tier)

  const c = colors(io)
  io.stdout(describe(c, request, plan, tier))
  const me = osUser(io.env)
  const uid = process.getuid?.()
  if (
    settings.approvals.approverUids.length > 0 &&
    uid !== undefined &&
    !settings.approvals.approverUids.includes(uid)
  ) {
    io.stderr(
      `warning: the server trusts grants only from uid ${settings.approvals.approverUids.join(', ')}; you are uid ${uid}, ` +
        'so it will refuse this approval.\n',
    )
  }
  if (options.yes !== true) {
    const answer = await ask(`Approve ${id} to run once on "${request.project}"? Type yes to approve: `)
    if (answer === undefined) {
      return fail(
        io,
        'Not approved: standard input is not a terminal. Run ddl approve in your own terminal (or pass --yes in a script you trust).',
        EXIT.failed,
      )
    }
    if (answer.trim().toLowerCase() !== 'yes') {
      io.stdout(
        `Not approved. ${id} keeps waiting until ${request.expiresAt}; deny it with: ddl approve --deny ${id}\n`,
      )
      return EXIT.failed
    }
  }
  // Check again: time passed while the person read.
  const again = await store.read(id)
  if (again.isErr()) return fail(io, again.error.message, EXIT.failed)
  const statusNow = approvalStatus(again.value, new Date())
  if (statusNow !== 'pending') return fail(io, notPending(id, statusNow, again.value), EXIT.failed)

  const granted: ApprovalGrant = {
    v: 1,
    id,
    project: request.project,
    sqlSha256: sqlSha256(request.sql),
    tier,
    approvedBy: me,
    approvedAt: new Date().toISOString(),
    expiresAt: request.expiresAt,
    via: 'cli',
  }
  // Audit first: an approval that is not recorded is not given.
  const recorded = await recordApprovalEvent(context.value.audit.log, request.project, plan, {
    step: 'approved',
    id,
    actor: me,
    via: 'cli',
    tier,
    expiresAt: granted.expiresAt,
  })
  if (recorded.isErr())
    return fail(io, `Not approved: the audit log could not record it: ${recorded.error.message}`, EXIT.usage)
  const written = await store.grant(granted)
  if (written.isErr()) return fail(io, written.error.message, EXIT.failed)
  if (options.json === true) {
    io.stdout(`${JSON.stringify({ approved: granted })}\n`)
  } else {
    io.stdout(
      `${c.green('Approved')} ${id} as ${me}: ${tierName(tier)} on "${request.project}", once, until ${granted.expiresAt}.\n` +
        'Tell the agent it is approved: it runs when the agent sends exactly this SQL again.\n',
    )
  }
  return EXIT.ok
}

async function deny(io: Io, store: ApprovalStore, id: string, options: ApproveOptions): Promise<number> {
  const read = await store.read(id)
  if (read.isErr()) return fail(io, read.error.message, EXIT.failed)
  const status = approvalStatus(read.value, new Date())
  const request = read.value.request
  if (request === undefined || status === 'used' || status === 'denied' || status === 'unknown') {
    return fail(io, notPending(id, status, read.value), EXIT.failed)
  }
  const me = osUser(io.env)
  const context = createContext(undefined, { cwd: io.cwd, env: io.env })
  if (context.isErr()) return fail(io, context.error.message, EXIT.usage)
  const classified = await classifySql(request.sql, context.value.classifyOptions)
  const denied = await store.deny({ v: 1, id, deniedBy: me, deniedAt: new Date().toISOString() })
  if (denied.isErr()) return fail(io, denied.error.message, EXIT.failed)
  if (classified.isOk()) {
    const recorded = await recordApprovalEvent(context.value.audit.log, request.project, classified.value, {
      step: 'denied',
      id,
      actor: me,
    })
    if (recorded.isErr())
      io.stderr(`warning: the denial could not be recorded in the audit log: ${recorded.error.message}\n`)
  }
  io.stdout(
    options.json === true ? `${JSON.stringify({ denied: id, by: me })}\n` : `Denied ${id} as ${me}. It will not run.\n`,
  )
  return EXIT.ok
}

function describe(
  c: Colors,
  request: NonNullable<ApprovalState['request']>,
  plan: Plan,
  tier: ReturnType<typeof maxTier>,
): string {
  const now = new Date()
  const lines = [
    `${c.bold(request.id)}: ${paintTier(c, tier)} SQL for project ${c.bold(request.project)}`,
    `requested by ${safeText(request.requestedBy)} through ${safeText(request.origin)}, ${ago(request.createdAt, now)}; ` +
      `expires in ${until(request.expiresAt, now)}`,
    '',
    'Statements (classified here):',
    ...statementLines(requestedStatements(plan)).map(safeText),
  ]
  if (compareTiers(request.tier, plan.tier) > 0) {
    lines.push(`The server classified it ${tierName(request.tier)} (its policy is stricter); the approval covers that.`)
  }
  if (request.rehearsal !== undefined && request.rehearsal.length > 0) {
    lines.push('', 'Rehearsal (reported by the server; it ran and rolled back):')
    lines.push(...request.rehearsal.map((f) => `  ${safeText(f)}`))
  }
  lines.push('', `Exact SQL (SHA-256 ${request.sqlSha256}):`, c.dim('-----'), safeText(request.sql), c.dim('-----'), '')
  return `${lines.join('\n')}\n`
}

function notPending(id: string, status: ApprovalStatus, state: ApprovalState): string {
  switch (status) {
    case 'unknown':
      return `There is no approval request ${id}. ddl approve --list shows the waiting ones.`
    case 'approved':
      return `${id} is already approved (by ${state.grant?.approvedBy ?? 'someone'}).`
    case 'used':
      return `${id} was already used at ${state.use?.usedAt ?? '?'}; it cannot run again.`
    case 'denied':
      return `${id} was denied by ${state.denial?.deniedBy ?? 'someone'}.`
    case 'expired':
      return `${id} expired at ${state.request?.expiresAt ?? '?'}. The agent must ask again (and you review the new request).`
    case 'pending':
      return `${id} is waiting.`
  }
}

async function ask(question: string): Promise<string | undefined> {
  if (process.stdin.isTTY !== true) return undefined
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return await rl.question(question)
  } finally {
    rl.close()
  }
}

/** The OS user of this process: who approved, in the audit log and the grant. Never `DDL_ACTOR`. */
function osUser(env: NodeJS.ProcessEnv): string {
  try {
    const name = userInfo().username
    if (name !== '') return name
  } catch {
    // No passwd entry (containers): fall through.
  }
  const uid = process.getuid?.()
  return env.USER ?? env.LOGNAME ?? (uid === undefined ? 'unknown' : `uid-${uid}`)
}

/**
 * Text from the request file (written by the agent's server) with control characters and
 * bidirectional overrides shown as `\u{..}`, so it cannot move the cursor, clear lines or reorder
 * what the person reads.
 */
function safeText(text: string): string {
  let out = ''
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0
    const control = (code < 0x20 && char !== '\n' && char !== '\t') || (code >= 0x7f && code < 0xa0)
    const bidi =
      (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069) || code === 0x200e || code === 0x200f
    out += control || bidi ? `\\u{${code.toString(16)}}` : char
  }
  return out
}

function paintTier(c: Colors, tier: Parameters<typeof tierName>[0]): string {
  if (tier === 'destructive') return c.bold(c.red(tierName(tier)))
  if (tier === 'cautious') return c.yellow(tierName(tier))
  return c.green(tierName(tier))
}

function ago(iso: string, now: Date): string {
  return `${duration(now.getTime() - Date.parse(iso))} ago`
}

function until(iso: string, now: Date): string {
  return duration(Date.parse(iso) - now.getTime())
}

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 90) return `${s}s`
  const m = Math.round(s / 60)
  return m < 90 ? `${m}m` : `${Math.round(m / 60)}h`
}

function fail(io: Io, message: string, code: number): number {
  io.stderr(`ddl approve: ${message}\n`)
  return code
}
