import { AUDIT_TIERS, type AuditRecord, formatSeedLine } from '@ddl/audit'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { UNTRUSTED_NOTE, untrustedData } from '../render.js'
import type { ToolContext } from '../tool-context.js'
import { openProject, projectField } from '../tool-kit.js'
import { errorResult, toolResult } from '../tool-result.js'

const DESCRIPTION = `Read the latest records of the audit log for the projects this server may use: every statement run, refused, rehearsed or waiting for approval, who acted (mcp:<client> for you, an OS user for a person), and each approval step. Newest last. Read-only.`

/** Registers `audit_tail`: the end of the audit log. */
export function registerAuditTail(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'audit_tail',
    {
      title: 'Read the audit log',
      description: DESCRIPTION,
      inputSchema: {
        limit: z.number().int().min(1).max(500).optional().describe('How many records, newest last. Default 20.'),
        project: projectField,
        tier: z.enum(AUDIT_TIERS).optional().describe('Only records of this tier.'),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ limit, project, tier }) => {
      const opened = openProject(ctx, project)
      if (opened.isErr()) return opened.error
      const records = await opened.value.log.read()
      if (records.isErr()) return errorResult(records.error)
      // As `ddl audit show` does: an intent whose outcome is recorded is shown by its outcome only.
      const answered = new Set(records.value.filter((r) => r.outcome !== 'intent').map((r) => r.runId))
      const chosen = records.value.filter(
        (r) =>
          r.project === opened.value.project &&
          (tier === undefined || r.tier === tier) &&
          (r.outcome !== 'intent' || r.runId === undefined || !answered.has(r.runId)),
      )
      const tail = chosen.slice(-(limit ?? 20))
      const lines = [
        `${tail.length} of ${chosen.length} records of project "${opened.value.project}" in ${opened.value.log.path}:`,
        untrustedData('audit records (their SQL was sent by agents and people)', tail.map(line).join('\n')),
      ]
      return toolResult('ok', lines.join('\n'), {
        project: opened.value.project,
        untrusted_data: UNTRUSTED_NOTE,
        records: tail.map((r) => ({
          seq: r.seq,
          time: r.time,
          actor: r.actor,
          tier: r.tier,
          outcome: r.outcome,
          statement: r.statement,
          ...(r.source !== undefined ? { source: r.source } : {}),
          ...(r.error !== undefined ? { error: r.error } : {}),
          ...(r.rowsAffected !== undefined ? { rows_affected: r.rowsAffected } : {}),
        })),
      })
    },
  )
}

function line(record: AuditRecord): string {
  const extra = [`actor=${record.actor}`, record.source !== undefined ? `source=${record.source}` : undefined]
    .filter((p) => p !== undefined)
    .join(' | ')
  return `  #${record.seq} ${formatSeedLine(record)} | ${extra}`
}
