import { createInterface } from 'node:readline/promises'
import { policyApprovalEntry, readPolicyApprovals } from '@ddl/executor/internal'
import type { Command } from 'commander'
import { colors, EXIT, type Io } from '../io.js'
import type { CommandContext, Register } from '../program.js'
import { openApi, reportError } from './exec.js'

const HELP = `
A policy in ddl.config.json ("policy") that only raises tiers applies as written. The parts that
lower a tier (a rule moved below its own tier, an "allow" entry, a key this version does not know)
apply only to the exact policy a person approved: ddl policy approve shows them and records the
policy's SHA-256 and the approving OS user in the audit log. Any later edit to the policy changes its
hash: the lowering parts are then ignored, with a warning, until it is approved again.

  status   the policy's hash, what it lowers, and whether that is approved (exit 1 when not)
  approve  show what the policy lowers, ask, and record the approval

Examples:
  $ ddl policy status
  $ ddl policy approve
  $ ddl policy approve --project smoothed --json
Docs: docs/configuration.md#pinned-policy, docs/security.md`

interface PolicyOptions {
  readonly project?: string
  readonly json?: boolean
  readonly yes?: boolean
}

/** Registers `ddl policy status` and `ddl policy approve`. */
export const registerPolicy: Register = (program: Command, ctx: CommandContext) => {
  const policy = program
    .command('policy')
    .description('show the project policy and approve the parts that lower a tier')
    .addHelpText('after', HELP)
  policy
    .command('status')
    .description("show the policy's hash, what it lowers, and whether a person approved it")
    .option('--project <name>', 'a project of ddl.config.json (its audit log)')
    .option('--json', 'print the status as JSON')
    .action(async (options: PolicyOptions) => {
      ctx.exitCode = await status(ctx.io, options)
    })
  policy
    .command('approve')
    .description('show what the policy lowers and record a person approving this exact policy')
    .option('--project <name>', 'a project of ddl.config.json (its audit log)')
    .option('--yes', 'approve without asking (for scripts a person runs; never give this to an agent)')
    .option('--json', 'print the approval as JSON')
    .action(async (options: PolicyOptions) => {
      ctx.exitCode = await approve(ctx.io, options)
    })
}

async function status(io: Io, options: PolicyOptions): Promise<number> {
  const db = openApi(io, options.project)
  try {
    const context = db.context()
    if (context.isErr()) return reportError(io, 'policy', context.error, options.json)
    const { policy, audit } = context.value
    const approvals = policy.hash === undefined ? [] : readPolicyApprovals(audit.log.path)
    const mine = approvals.filter((a) => a.hash === policy.hash)
    const needsApproval = policy.lowering.length > 0 && !policy.approved
    if (options.json === true) {
      io.stdout(
        `${JSON.stringify(
          {
            ok: !needsApproval,
            hash: policy.hash ?? null,
            lowering: policy.lowering,
            approved: policy.approved,
            approvals: mine,
            warning: policy.warning ?? null,
          },
          null,
          2,
        )}\n`,
      )
      return needsApproval ? EXIT.failed : EXIT.ok
    }
    if (policy.hash === undefined) {
      io.stdout('No policy: every rule has its own tier.\n')
      return EXIT.ok
    }
    const lines = [`Policy ${policy.hash}`]
    if (policy.lowering.length === 0) lines.push('It only raises tiers: it applies as written, no approval needed.')
    else {
      lines.push('It lowers tiers:', ...policy.lowering.map((l) => `  ${l.where}  ${l.description}`))
      const last = mine[mine.length - 1]
      lines.push(
        last !== undefined
          ? `Approved by ${last.actor} at ${last.time}: the lowering applies.`
          : 'Not approved: only its raise-only part applies. A person approves it with: ddl policy approve',
      )
    }
    io.stdout(`${lines.join('\n')}\n`)
    return needsApproval ? EXIT.failed : EXIT.ok
  } finally {
    await db.close()
  }
}

async function approve(io: Io, options: PolicyOptions): Promise<number> {
  const c = colors(io)
  const db = openApi(io, options.project)
  try {
    const context = db.context()
    if (context.isErr()) return reportError(io, 'policy', context.error, options.json)
    const { policy, audit, config } = context.value
    const whole = config.config.policy
    if (whole === undefined || policy.hash === undefined) {
      io.stderr('ddl policy: there is no policy to approve (no "policy" in ddl.config.json).\n')
      return EXIT.usage
    }
    if (policy.lowering.length === 0) {
      io.stdout(`Policy ${policy.hash} only raises tiers: it applies as written, no approval needed.\n`)
      return EXIT.ok
    }
    io.stderr(
      [
        `Policy ${policy.hash} (${config.path ?? 'ddl.config.json'}) lowers tiers:`,
        ...policy.lowering.map((l) => `  ${l.where}  ${l.description}`),
        'Once approved, statements these rules cover run with fewer flags (or none).',
        '',
      ].join('\n'),
    )
    if (options.yes !== true) {
      const answer = await ask('Approve this exact policy? Type yes to approve: ')
      if (answer === undefined) {
        io.stderr(
          'Not approved: standard input is not a terminal. Run ddl policy approve in your own terminal (or pass --yes in a script you trust).\n',
        )
        return EXIT.failed
      }
      if (answer.trim().toLowerCase() !== 'yes') {
        io.stderr('Not approved.\n')
        return EXIT.failed
      }
    }
    const entry = policyApprovalEntry(audit.project, whole)
    const recorded = await audit.log.append(entry)
    if (recorded.isErr()) return reportError(io, 'policy', recorded.error, options.json)
    const record = recorded.value[0]
    if (options.json === true) {
      io.stdout(
        `${JSON.stringify({ ok: true, hash: policy.hash, approvedBy: entry.actor, seq: record?.seq, auditLog: audit.log.path }, null, 2)}\n`,
      )
    } else {
      io.stdout(
        `${c.green(`Approved policy ${policy.hash.slice(0, 12)}`)} by ${entry.actor}; recorded in ${audit.log.path} (record ${record?.seq}).\n`,
      )
    }
    return EXIT.ok
  } finally {
    await db.close()
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
