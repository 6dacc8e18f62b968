import { type ExecuteResult, gatePlan } from '@ddl/executor/internal'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { approvedRunSource, recordApprovalEvent } from '../approval-audit.js'
import { clearWork } from '../approval-flow.js'
import { pendingResult } from '../pending-result.js'
import { executedLines, rehearsalFacts, runData } from '../render.js'
import { singleAccountWarning } from '../settings.js'
import type { ToolContext } from '../tool-context.js'
import { classifyFor, openProject, projectField, refuseReadOnly, sqlField } from '../tool-kit.js'
import { errorResult, toolResult } from '../tool-result.js'

const DESCRIPTION = `Run SQL on the database through safe-ddl's gate: parsed by the real Postgres grammar, classified, run in one transaction (all or nothing) under lock and statement timeouts, and recorded in the audit log.
- safe work (CREATE TABLE, ADD COLUMN, CREATE INDEX, INSERT, ...) runs at once.
- cautious and destructive work (DROP, TRUNCATE, DELETE/UPDATE, DROP COLUMN, ...) does NOT run: you get a pending approval (an id, the statements with their tiers, what could be lost, and a rehearsal report) and must stop. A person approves it outside of you (\`ddl approve ID\` in their terminal, or your client's prompt). Then call execute_sql again with exactly the same SQL (or with approval_id); it runs once. Changed SQL needs a new approval.
There is no flag to skip the approval, and you must not run \`ddl approve\` yourself. Use classify_sql first to see the tier, and rehearse_sql to see what the SQL would do.`

/** Registers `execute_sql`: gated, audited execution; cautious and destructive work waits for a person. */
export function registerExecuteSql(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'execute_sql',
    {
      title: 'Execute SQL (gated; approvals for risky work)',
      description: DESCRIPTION,
      inputSchema: {
        sql: sqlField('The exact'),
        project: projectField,
        approval_id: z
          .string()
          .max(64)
          .optional()
          .describe(
            'The id of an approval a person has given for exactly this SQL (from an earlier pending result). Optional: the same SQL finds its approval by itself.',
          ),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async ({ sql, project, approval_id }, extra): Promise<CallToolResult> => {
      const opened = openProject(ctx, project)
      if (opened.isErr()) return opened.error
      const handle = opened.value
      const plan = await classifyFor(handle, sql)
      if (ctx.settings.readOnly) return refuseReadOnly(ctx, handle, plan.isOk() ? plan.value : undefined, 'execute_sql')
      if (plan.isErr()) return errorResult(plan.error, 'Fix the SQL and try again.')
      const structural = gatePlan(plan.value, { iKnowWhatImDoing: true }, 'execute')
      if (structural.isErr()) {
        const recorded = await recordApprovalEvent(handle.log, handle.project, plan.value, {
          step: 'gate',
          actor: ctx.actor(),
          reason: structural.error.message.split('\n')[0] ?? structural.error.message,
        })
        if (recorded.isErr()) return errorResult(recorded.error)
        return errorResult(structural.error, 'Fix the SQL as the message says; nothing was sent.')
      }

      const clearance = await clearWork(
        ctx,
        {
          project: handle.project,
          sql,
          plan: plan.value,
          tier: plan.value.tier,
          origin: 'execute_sql',
          log: handle.log,
        },
        {
          approvalId: approval_id,
          rehearse: async () =>
            (await handle.api.execute(sql, { rehearse: true })).map((r) => ({
              facts: rehearsalFacts(r),
              ...(r.mode === 'rehearsal' ? { effects: r.effects } : {}),
            })),
          relatedRequestId: extra.requestId,
          signal: extra.signal,
        },
      )
      if (clearance.isErr()) {
        return errorResult(
          clearance.error,
          clearance.error.kind === 'ApprovalError'
            ? 'Do not retry with other ids. Call execute_sql without approval_id to ask a person for a new approval.'
            : undefined,
        )
      }
      const c = clearance.value
      if (c.kind === 'pending')
        return pendingResult(c.request, c.reused, 'execute_sql', singleAccountWarning(ctx.settings))

      const api =
        c.kind === 'approved'
          ? ctx.projects.open(handle.project, approvedRunSource(c.grant.id, c.grant.approvedBy, c.grant.via))
          : handle.api
      try {
        // An approved run is held to the rehearsal the person was shown (the effect check).
        const expected = c.kind === 'approved' ? c.expectedEffects : undefined
        const run = await api.execute(sql, {
          ...c.flags,
          dryRun: false,
          rehearse: false,
          ...(expected !== undefined ? { expectedEffects: expected } : {}),
        })
        if (run.isErr()) {
          return errorResult(
            run.error,
            c.kind === 'approved'
              ? `The approval ${c.grant.id} is used up. Fix the cause, then call execute_sql again to ask for a new approval.`
              : 'Fix the cause and try again.',
          )
        }
        return executed(run.value, handle.project, ctx.settings.maxRows, c.kind === 'approved' ? c.grant : undefined)
      } finally {
        if (api !== handle.api) await api.close()
      }
    },
  )
}

function executed(
  result: ExecuteResult,
  project: string,
  maxRows: number,
  grant: { readonly id: string; readonly approvedBy: string; readonly via: string } | undefined,
): CallToolResult {
  const head =
    grant === undefined
      ? `Ran on project "${project}".`
      : `Ran on project "${project}" with approval ${grant.id} (approved by ${grant.approvedBy} via ${grant.via}); the approval is now used.`
  return toolResult('executed', [head, ...executedLines(result, maxRows)].join('\n'), {
    project,
    tier: result.tier,
    in_transaction: result.inTransaction,
    duration_ms: result.durationMs,
    statements: runData(result.statements, maxRows),
    ...(grant !== undefined ? { approval_id: grant.id, approved_by: grant.approvedBy } : {}),
    ...(result.undo !== undefined ? { undo_id: result.undo.id } : {}),
    warnings: result.warnings,
  })
}
