import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { rehearsalFacts, tierName } from '../render.js'
import type { ToolContext } from '../tool-context.js'
import { classifyFor, openProject, projectField, refuseReadOnly, sqlField } from '../tool-kit.js'
import { errorResult, toolResult } from '../tool-result.js'

const DESCRIPTION = `Rehearse SQL: run it inside a transaction that is always rolled back, and report what it did: rows it would touch, tables it would empty or drop, objects CASCADE would also take, tables it would rewrite, and the locks it took. Nothing is changed and no approval is needed (statements whose effect a rollback cannot undo, such as killing sessions, are refused).
It still runs the SQL: a long rewrite holds its lock while it runs, so prefer classify_sql on a busy production database. The rehearsal is recorded in the audit log.`

/** Registers `rehearse_sql`: run, report, roll back. */
export function registerRehearseSql(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'rehearse_sql',
    {
      title: 'Rehearse SQL (run, then roll back)',
      description: DESCRIPTION,
      inputSchema: { sql: sqlField('The'), project: projectField },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ sql, project }) => {
      const opened = openProject(ctx, project)
      if (opened.isErr()) return opened.error
      const handle = opened.value
      if (ctx.settings.readOnly) {
        const plan = await classifyFor(handle, sql)
        return refuseReadOnly(ctx, handle, plan.isOk() ? plan.value : undefined, 'rehearse_sql')
      }
      const result = await handle.api.execute(sql, { rehearse: true })
      if (result.isErr()) return errorResult(result.error, 'Nothing was changed. Fix the SQL and rehearse again.')
      const r = result.value
      const unattended = ctx.settings.unattendedTiers.includes(r.tier)
      const facts = rehearsalFacts(r)
      const lines = [
        `[REHEARSAL] Ran on project "${handle.project}" in a transaction and rolled it back: nothing was changed.`,
        ...facts.map((f) => `  ${f}`),
        `Classification: ${tierName(r.tier)}. ${
          unattended
            ? 'execute_sql would run it at once.'
            : "execute_sql would wait for a person's approval before running it."
        }`,
      ]
      for (const warning of r.warnings) lines.push(`Warning: ${warning}`)
      return toolResult('rehearsed', lines.join('\n'), {
        project: handle.project,
        tier: r.tier,
        rolled_back: true,
        duration_ms: r.durationMs,
        facts,
        statements: r.statements.map((s) => ({
          line: s.line,
          statement: s.statement,
          tier: s.tier,
          rehearsed: s.rehearsed,
          command: s.command,
          row_count: s.rowCount,
          locks: s.locks,
          rewritten: s.rewritten,
          created: s.created,
          dropped: s.dropped,
          truncated: s.truncated,
          dropped_rows: s.droppedRows,
          cascades: s.cascades,
        })),
      })
    },
  )
}
