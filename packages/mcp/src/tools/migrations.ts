import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { type ClassifiedStatement, compareTiers, maxTier, type Plan, requiredFlag, type Tier } from '@ddl/classifier'
import {
  classifySql,
  type MigrationPlan,
  type MigrationReport,
  migrationStatus,
  planMigrations,
  type RunMigrationsOptions,
  runMigrationsFromDir,
} from '@ddl/executor/internal'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { migrationBundle, type RequestedStatement } from '../approval.js'
import { approvedRunSource } from '../approval-audit.js'
import { clearWork } from '../approval-flow.js'
import { type MigrationSnapshot, snapshotMigrations } from '../migration-snapshot.js'
import { pendingResult } from '../pending-result.js'
import { escapeControls, requestedStatements, tierName } from '../render.js'
import { singleAccountWarning } from '../settings.js'
import type { ToolContext } from '../tool-context.js'
import { openProject, type ProjectHandle, projectField, refuseReadOnly } from '../tool-kit.js'
import { errorResult, toolResult } from '../tool-result.js'

const dirField = z
  .string()
  .min(1)
  .max(1000)
  .optional()
  .describe(
    "The migrations directory (flat *.sql files, or Prisma's <timestamp>_<name>/migration.sql folders), relative to the server's working directory. Omit it to use the configured one.",
  )

const STATUS_DESCRIPTION = `Show where each migration of a directory stands on the database: applied, pending, changed since it was applied, claimed by a running migrator, or applied but missing from the directory; with each pending file's tier. Read-only.`

const APPLY_DESCRIPTION = `Apply the pending migrations of a directory, in order, each file in its own transaction with its row in public.ddl_migrations (a file is never applied twice).
If every pending file is safe, they run at once. If any is cautious or destructive, nothing runs: you get a pending approval for exactly those files' contents and must stop; a person approves it (\`ddl approve ID\` in their terminal, or your client's prompt), then call apply_migrations again with the same directory and approval_id. Changing, adding or removing a pending file needs a new approval. There is no flag to skip the approval.`

/** Registers `migration_status`. */
export function registerMigrationStatus(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'migration_status',
    {
      title: 'Migration status',
      description: STATUS_DESCRIPTION,
      inputSchema: { dir: dirField, project: projectField },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ dir, project }) => {
      const opened = openProject(ctx, project)
      if (opened.isErr()) return opened.error
      const where = migrationsDir(ctx, dir)
      if (where === undefined) return noDir()
      const options = runOptions(ctx, opened.value, 'mcp')
      const status = await migrationStatus(where, options)
      if (status.isErr()) return errorResult(status.error)
      const s = status.value
      const plan = ctx.settings.readOnly ? undefined : await planMigrations(where, options)
      const tiers = new Map<string, Tier>()
      if (plan?.isOk()) for (const p of plan.value.pending) tiers.set(p.name, p.tier)
      const counts = Object.entries(s.counts)
        .filter(([, n]) => n > 0)
        .map(([state, n]) => `${n} ${state}`)
        .join(', ')
      const lines = [
        `${s.dir} (${s.layout} layout) on project "${opened.value.project}": ${counts || 'no migrations'}.`,
      ]
      for (const e of s.entries) {
        const tier = tiers.get(e.name)
        const when = e.appliedAt !== undefined ? ` at ${e.appliedAt.toISOString()}` : ''
        lines.push(
          `  ${e.state.padEnd(8)} ${escapeControls(e.name)}${tier !== undefined ? ` [${tierName(tier)}]` : ''}${when}`,
        )
      }
      if (!s.tracking) lines.push('No migration was ever applied here (public.ddl_migrations does not exist yet).')
      return toolResult('ok', lines.join('\n'), {
        project: opened.value.project,
        dir: s.dir,
        layout: s.layout,
        counts: s.counts,
        entries: s.entries.map((e) => ({
          name: e.name,
          state: e.state,
          ...(tiers.has(e.name) ? { tier: tiers.get(e.name) } : {}),
          ...(e.appliedAt !== undefined ? { applied_at: e.appliedAt.toISOString() } : {}),
        })),
      })
    },
  )
}

/** Registers `apply_migrations`: safe files run; cautious and destructive runs wait for a person. */
export function registerApplyMigrations(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'apply_migrations',
    {
      title: 'Apply migrations (gated; approvals for risky files)',
      description: APPLY_DESCRIPTION,
      inputSchema: {
        dir: dirField,
        project: projectField,
        approval_id: z
          .string()
          .max(64)
          .optional()
          .describe('The id of an approval a person has given for these pending migrations.'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async ({ dir, project, approval_id }, extra): Promise<CallToolResult> => {
      const opened = openProject(ctx, project)
      if (opened.isErr()) return opened.error
      const handle = opened.value
      if (ctx.settings.readOnly) return refuseReadOnly(ctx, handle, undefined, 'apply_migrations')
      const where = migrationsDir(ctx, dir)
      if (where === undefined) return noDir()
      let snapshot: MigrationSnapshot
      try {
        snapshot = await snapshotMigrations(where)
      } catch (error) {
        return toolResult('refused', `Cannot read the migrations directory ${where}: ${(error as Error).message}`, {
          reason: 'layout',
        })
      }
      try {
        return await apply(ctx, handle, where, snapshot.dir, approval_id, extra)
      } finally {
        await snapshot.remove()
      }
    },
  )
}

async function apply(
  ctx: ToolContext,
  handle: ProjectHandle,
  shown: string,
  dir: string,
  approvalId: string | undefined,
  extra: { readonly requestId: string | number; readonly signal: AbortSignal },
): Promise<CallToolResult> {
  const planned = await planMigrations(dir, { ...runOptions(ctx, handle, 'mcp'), iKnowWhatImDoing: true })
  if (planned.isErr()) return errorResult(planned.error)
  const plan = planned.value
  if (plan.pending.length === 0) {
    return toolResult('ok', `Nothing to apply in ${shown}: ${plan.alreadyApplied.length} migrations already applied.`, {
      project: handle.project,
      applied: [],
      already_applied: plan.alreadyApplied,
    })
  }
  if (!plan.wouldRun) return refusedPlan(plan, shown)

  // The approval is bound to the exact bytes of every pending file, in order, with their names; each
  // file is classified alone, as the run classifies it, so what the person is shown is what runs.
  const context = handle.api.context()
  if (context.isErr()) return errorResult(context.error)
  const files: { name: string; sql: string }[] = []
  const statements: RequestedStatement[] = []
  const classifiedAll: ClassifiedStatement[] = []
  let tier = plan.pending.reduce<Tier>((t, p) => (compareTiers(p.tier, t) > 0 ? p.tier : t), 'safe')
  let hasParseErrors = false
  for (const p of plan.pending) {
    const text = await readFile(p.path, 'utf8')
    files.push({ name: p.name, sql: text })
    const one = await classifySql(text, context.value.classifyOptions, p.path)
    if (one.isErr()) return errorResult(one.error, 'Apply fewer migrations at a time.')
    statements.push(...requestedStatements(one.value, p.name))
    classifiedAll.push(...one.value.statements)
    hasParseErrors ||= one.value.hasParseErrors
    tier = maxTier(tier, one.value.tier)
  }
  const sql = migrationBundle(files)
  const combined: Plan = { statements: classifiedAll, tier, requires: requiredFlag(tier), hasParseErrors }

  const clearance = await clearWork(
    ctx,
    {
      project: handle.project,
      sql,
      plan: combined,
      statements,
      files,
      tier,
      origin: `apply_migrations ${escapeControls(shown)} (${plan.pending.map((p) => escapeControls(p.name)).join(', ')})`,
      log: handle.log,
    },
    { approvalId, relatedRequestId: extra.requestId, signal: extra.signal },
  )
  if (clearance.isErr()) {
    return errorResult(
      clearance.error,
      clearance.error.kind === 'ApprovalError'
        ? 'Call apply_migrations again without approval_id to ask a person for a new approval.'
        : undefined,
    )
  }
  const c = clearance.value
  if (c.kind === 'pending')
    return pendingResult(c.request, c.reused, 'apply_migrations', singleAccountWarning(ctx.settings))
  const source = c.kind === 'approved' ? approvedRunSource(c.grant.id, c.grant.approvedBy, c.grant.via) : 'mcp'
  const report = await runMigrationsFromDir(dir, { ...runOptions(ctx, handle, source), ...c.flags })
  if (report.isErr()) {
    return errorResult(
      report.error,
      c.kind === 'approved'
        ? `The approval ${c.grant.id} is used up; ask for a new one after fixing the cause.`
        : undefined,
    )
  }
  return applied(report.value, handle.project, shown, c.kind === 'approved' ? c.grant.id : undefined)
}

function applied(
  report: MigrationReport,
  project: string,
  shown: string,
  approvalId: string | undefined,
): CallToolResult {
  const lines = [
    `${escapeControls(report.message)} (${escapeControls(shown)}, project "${project}"${approvalId !== undefined ? `, approval ${approvalId}, now used` : ''})`,
    ...report.applied.map(
      (a) => `  applied ${escapeControls(a.name)} [${tierName(a.tier)}] ${a.statements} statements, ${a.durationMs} ms`,
    ),
    ...report.notes.map((n) => `Note: ${n}`),
  ]
  return toolResult('executed', lines.join('\n'), {
    project,
    applied: report.applied.map((a) => ({ name: a.name, tier: a.tier, statements: a.statements })),
    already_applied: report.alreadyApplied,
    ...(approvalId !== undefined ? { approval_id: approvalId } : {}),
  })
}

function refusedPlan(plan: MigrationPlan, shown: string): CallToolResult {
  const issues = plan.pending.flatMap((p) => p.issues.filter((i) => i.reason !== 'tier'))
  const lines = [`Refused: the migrations in ${shown} cannot run as they are. Nothing ran.`]
  for (const i of issues)
    lines.push(`  ${escapeControls(i.name)}${i.line !== undefined ? ` line ${i.line}` : ''}: ${i.message}`)
  for (const name of plan.changed) lines.push(`  ${escapeControls(name)}: changed since it was applied.`)
  lines.push('Next step: fix the files (or ask a person about changed applied files); then try again.')
  return toolResult('refused', lines.join('\n'), {
    reason: 'migrations',
    issues: issues.map((i) => ({ name: i.name, reason: i.reason, message: i.message })),
    changed: plan.changed,
  })
}

function migrationsDir(ctx: ToolContext, dir: string | undefined): string | undefined {
  if (dir !== undefined) return resolve(ctx.settings.cwd, dir)
  return ctx.settings.migrationsDir
}

function noDir(): CallToolResult {
  return toolResult(
    'refused',
    'Name the migrations directory (dir); this server has no default one ("mcp": { "migrationsDir": ... }).',
    { reason: 'no-dir' },
  )
}

function runOptions(ctx: ToolContext, handle: ProjectHandle, source: string): RunMigrationsOptions {
  // Connection, configuration and audit log as read at start: nothing is read from the tree again.
  return {
    ...ctx.projects.connectOptions(handle.project),
    actor: ctx.actor(),
    source,
    timeouts: ctx.settings.timeouts,
    waitMs: 10_000,
  }
}
