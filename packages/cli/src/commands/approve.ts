import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { userInfo } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline/promises'
import { Writable } from 'node:stream'
import { type ClassifiedStatement, compareTiers, maxTier, type Plan, requiredFlag, type Tier } from '@ddl/classifier'
import { classifySql, createContext } from '@ddl/executor/internal'
import {
  type ApprovalGrant,
  type ApprovalState,
  type ApprovalStatus,
  ApprovalStore,
  agentMarkers,
  approvalStatus,
  describeTarget,
  escapeControls,
  loadSettings,
  type McpSettings,
  migrationBundle,
  type RequestedStatement,
  recordApprovalEvent,
  requestedStatements,
  SINGLE_ACCOUNT_WARNING,
  signGrant,
  singleAccount,
  sqlSha256,
  statementLines,
  tierName,
} from '@ddl/mcp'
import type { Command } from 'commander'
import { type Colors, colors, EXIT, type Io } from '../io.js'
import { notifyAfter } from '../notify-after.js'
import type { CommandContext, Register } from '../program.js'

const HELP = `
An AI agent using safe-ddl's MCP server (ddl mcp), or running ddl exec / ddl migrate with an override
flag, cannot run cautious or destructive SQL on its own: it gets an approval id, and a person approves
it here, in their own terminal. The approval is bound to the SHA-256 of the exact SQL shown, its
project, the database shown (host, port, database, system identifier) and the server instance that
asked; it expires with its request (15 minutes by default) and lets that SQL run once. Approving and
denying are recorded in the audit log with your OS user.

Review the SQL before approving: it is shown in full, with its tiers, what could be lost, and what the
server's rehearsal found (reported by the server: the classification shown is made here, from
exactly the text that will run; control characters are shown escaped, e.g. \u{a} for a newline).

Who may approve: in a single-account setup, anyone who can run this command as you can approve, and
an agent with a shell as you can too. Stronger setups (docs/agents.md, "Trust boundary"):
  - an approver OS account: run ddl approve as that user; the server trusts grants owned by it
    (ddl mcp --approver-uid UID);
  - an approver key: ddl approve --init-key DIR makes an Ed25519 key pair whose private key is
    sealed with a passphrase; the server gets the public key (ddl mcp --approval-key DIR/approver.pub)
    and trusts only grants signed with it (ddl approve --key DIR/approver.key ID).
ddl approve refuses to run where a coding agent's markers show (CLAUDECODE, ...), and asks on a
terminal. Neither check is a boundary: an agent can clear its variables and open a pseudo-terminal
(script, expect, tmux). The approver account or the key's passphrase is what holds.

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
  readonly key?: string
  readonly passphraseFile?: string
  readonly initKey?: string
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
    .option('--key <file>', "sign the grant with the approver's private key (default: $DDL_APPROVAL_PRIVATE_KEY)")
    .option('--passphrase-file <file>', "read the key's passphrase from a file (scripts; default: ask on the terminal)")
    .option(
      '--init-key <dir>',
      'make an approver key pair in DIR: approver.key (sealed with a passphrase) and approver.pub',
    )
    .addHelpText('after', HELP)
    .action(async (id: string | undefined, options: ApproveOptions) => {
      const since = new Date().toISOString()
      ctx.exitCode = await approve(ctx.io, id, options)
      // A grant or a denial was recorded: tell the sinks (and deliver what earlier commands left).
      if (id !== undefined || options.deny !== undefined) await notifyAfter(ctx.io, 'approve', { since })
    })
}

async function approve(io: Io, id: string | undefined, options: ApproveOptions): Promise<number> {
  const markers = agentMarkers(io.env)
  if (markers.length > 0) {
    return fail(
      io,
      `refused: this environment shows a coding agent (${markers.join(', ')}). An agent cannot approve its own ` +
        'work: a person runs ddl approve in their own terminal.',
      EXIT.failed,
    )
  }
  if (options.initKey !== undefined) return initKey(io, options.initKey, options)
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
  const shown = await classifyRequest(request, context.value.classifyOptions)
  if (typeof shown === 'string') return fail(io, shown, EXIT.failed)
  const { plan, statements } = shown
  const tier = maxTier(plan.tier, request.tier)
  let privateKey: KeyObject | undefined
  const keyPath = options.key ?? io.env.DDL_APPROVAL_PRIVATE_KEY
  if (keyPath !== undefined && keyPath.trim() !== '') {
    const opened = await openPrivateKey(resolve(io.cwd, keyPath), options)
    if (typeof opened === 'string') return fail(io, opened, EXIT.failed)
    privateKey = opened
  }

  const c = colors(io)
  io.stdout(describe(c, request, statements, plan.tier, tier))
  if (singleAccount(settings) && privateKey === undefined) io.stderr(`warning: ${SINGLE_ACCOUNT_WARNING}\n`)
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
    const answer = await ask(
      `Approve ${id} to run once on "${request.project}" (${escapeControls(describeTarget(request.target))})? Type yes to approve: `,
    )
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

  const unsigned: ApprovalGrant = {
    v: 1,
    id,
    project: request.project,
    sqlSha256: sqlSha256(request.sql),
    tier,
    approvedBy: me,
    approvedAt: new Date().toISOString(),
    expiresAt: request.expiresAt,
    via: 'cli',
    server: request.server,
    target: request.target,
  }
  const granted = privateKey === undefined ? unsigned : signGrant(unsigned, privateKey)
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
      `${c.green('Approved')} ${id} as ${me}${privateKey !== undefined ? ' (signed)' : ''}: ${tierName(tier)} on "${request.project}" ` +
        `(${escapeControls(describeTarget(request.target))}), once, until ${granted.expiresAt}.\n` +
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
  statements: readonly RequestedStatement[],
  planTier: Tier,
  tier: ReturnType<typeof maxTier>,
): string {
  const now = new Date()
  const lines = [
    `${c.bold(request.id)}: ${paintTier(c, tier)} SQL for project ${c.bold(safeText(request.project))}`,
    `database: ${c.bold(escapeControls(describeTarget(request.target)))}`,
    `asked by server instance ${escapeControls(request.server)}; only it can use the approval`,
    `requested by ${safeText(request.requestedBy)} through ${safeText(request.origin)}, ${ago(request.createdAt, now)}; ` +
      `expires in ${until(request.expiresAt, now)}`,
    '',
    request.files !== undefined
      ? `Statements (classified here, each migration file alone, as the run classifies it; ${request.files.length} files):`
      : 'Statements (classified here):',
    ...statementLines(statements),
  ]
  if (compareTiers(request.tier, planTier) > 0) {
    lines.push(`The server classified it ${tierName(request.tier)} (its policy is stricter); the approval covers that.`)
  }
  if (request.rehearsal !== undefined && request.rehearsal.length > 0) {
    lines.push('', 'Rehearsal (reported by the server; it ran and rolled back):')
    lines.push(...request.rehearsal.map((f) => `  ${safeText(f)}`))
  }
  if (request.files !== undefined) {
    for (const file of request.files) {
      lines.push(
        '',
        `Migration file ${escapeControls(JSON.stringify(file.name))}:`,
        c.dim('-----'),
        safeText(file.sql),
        c.dim('-----'),
      )
    }
    lines.push('', `(SHA-256 of the files with their names: ${request.sqlSha256})`, '')
  } else {
    lines.push(
      '',
      `Exact SQL (SHA-256 ${request.sqlSha256}):`,
      c.dim('-----'),
      safeText(request.sql),
      c.dim('-----'),
      '',
    )
  }
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
 * what the person reads. Newlines and tabs stay (multi-line SQL).
 */
function safeText(text: string): string {
  return escapeControls(text, { keepNewlines: true })
}

/**
 * The statements to show, classified here from exactly what will run: a migration request's files
 * one by one (as the migrator classifies them), checked to be the files its SQL is bound to; else
 * the request's SQL. A string says why it cannot be shown.
 */
async function classifyRequest(
  request: NonNullable<ApprovalState['request']>,
  options: Parameters<typeof classifySql>[1],
): Promise<{ plan: Plan; statements: RequestedStatement[] } | string> {
  if (request.files === undefined) {
    const classified = await classifySql(request.sql, options)
    if (classified.isErr()) return `The request's SQL cannot be classified: ${classified.error.message}`
    return { plan: classified.value, statements: requestedStatements(classified.value) }
  }
  if (migrationBundle(request.files) !== request.sql) {
    return `The request ${request.id} is damaged: its files are not the SQL its approval binds. Not approved.`
  }
  const all: ClassifiedStatement[] = []
  const statements: RequestedStatement[] = []
  let tier: Tier = 'safe'
  let hasParseErrors = false
  for (const file of request.files) {
    const one = await classifySql(file.sql, options)
    if (one.isErr()) return `Migration ${escapeControls(file.name)} cannot be classified: ${one.error.message}`
    all.push(...one.value.statements)
    statements.push(...requestedStatements(one.value, file.name))
    tier = maxTier(tier, one.value.tier)
    hasParseErrors ||= one.value.hasParseErrors
  }
  return { plan: { statements: all, tier, requires: requiredFlag(tier), hasParseErrors }, statements }
}

/** Opens the approver's private key, asking for its passphrase. A string says why it cannot. */
async function openPrivateKey(path: string, options: ApproveOptions): Promise<KeyObject | string> {
  let pem: string
  try {
    pem = await readFile(path, 'utf8')
  } catch (error) {
    return `Cannot read the approver key ${path}: ${(error as Error).message}`
  }
  const passphrase = await passphraseFor(options, `Passphrase of ${path}: `)
  if (passphrase === undefined) {
    return 'The approver key needs its passphrase: run ddl approve in your own terminal (or pass --passphrase-file).'
  }
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase })
  } catch {
    return `The approver key ${path} could not be opened: wrong passphrase, or not a key made by ddl approve --init-key. Not approved.`
  }
}

async function passphraseFor(options: ApproveOptions, question: string): Promise<string | undefined> {
  if (options.passphraseFile !== undefined) {
    try {
      return (await readFile(options.passphraseFile, 'utf8')).replace(/\r?\n$/, '')
    } catch {
      return undefined
    }
  }
  if (process.stdin.isTTY !== true) return undefined
  process.stderr.write(question)
  const muted = new Writable({ write: (_chunk, _encoding, done) => done() })
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true })
  try {
    return await rl.question('')
  } finally {
    rl.close()
    process.stderr.write('\n')
  }
}

/** `ddl approve --init-key DIR`: an Ed25519 key pair, the private half sealed with a passphrase. */
async function initKey(io: Io, dir: string, options: ApproveOptions): Promise<number> {
  const passphrase = await passphraseFor(options, 'Passphrase for the new approver key (keep it from the agent): ')
  if (passphrase === undefined || passphrase.length < 8) {
    return fail(
      io,
      'A passphrase of at least 8 characters is needed (typed on a terminal, or --passphrase-file).',
      EXIT.usage,
    )
  }
  const { publicKey, privateKey } = generateKeyPairSync('ed25519', {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase },
  })
  const where = resolve(io.cwd, dir)
  try {
    await mkdir(where, { recursive: true, mode: 0o700 })
    await writeFile(join(where, 'approver.key'), privateKey, { mode: 0o600, flag: 'wx' })
    await writeFile(join(where, 'approver.pub'), publicKey, { mode: 0o644, flag: 'wx' })
  } catch (error) {
    return fail(io, `Cannot write the key pair in ${where}: ${(error as Error).message}`, EXIT.usage)
  }
  io.stdout(
    `Wrote ${join(where, 'approver.key')} (private, sealed with your passphrase) and ${join(where, 'approver.pub')}.\n` +
      `Start the MCP server with --approval-key ${join(where, 'approver.pub')} (in the MCP client configuration, not .env),\n` +
      `and approve with: ddl approve --key ${join(where, 'approver.key')} ID\n`,
  )
  return EXIT.ok
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
