import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { plainRow, rowLines, UNTRUSTED_NOTE, untrustedData } from '../render.js'
import type { ToolContext } from '../tool-context.js'
import { openProject, projectField } from '../tool-kit.js'
import { errorResult, toolResult } from '../tool-result.js'

const DESCRIPTION = `Run one read-only query (SELECT, VALUES, TABLE, SHOW, EXPLAIN) and return its rows.
It runs in a READ ONLY transaction under a statement timeout, so the server itself refuses any write; a statement that writes is refused before it is sent. Use $1, $2, ... placeholders with params for values. Rows beyond the server's limit are cut (the result says so): add LIMIT or aggregate.`

/** Registers `query`: one read, in a READ ONLY transaction. */
export function registerQuery(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'query',
    {
      title: 'Query (read-only)',
      description: DESCRIPTION,
      inputSchema: {
        sql: z
          .string()
          .min(1)
          .max(1_000_000)
          .describe('One read-only statement, e.g. SELECT * FROM users WHERE id = $1'),
        params: z
          .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
          .max(1000)
          .optional()
          .describe('Values for $1, $2, ... in order.'),
        project: projectField,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ sql, params, project }) => {
      const opened = openProject(ctx, project)
      if (opened.isErr()) return opened.error
      const result = await opened.value.api.query(sql, params ?? [])
      if (result.isErr()) {
        return errorResult(
          result.error,
          result.error.kind === 'SafetyError' ? 'Use execute_sql for changes.' : 'Fix the query and try again.',
        )
      }
      const r = result.value
      const max = ctx.settings.maxRows
      const lines = [
        `${r.command}: ${r.rowCount} row${r.rowCount === 1 ? '' : 's'} (project "${opened.value.project}"). Columns: ${
          r.fields.map((f) => f.name).join(', ') || 'none'
        }`,
        ...(r.rows.length > 0 ? [untrustedData('rows the query returned', rowLines(r.rows, max).join('\n'))] : []),
      ]
      return toolResult('ok', lines.join('\n'), {
        project: opened.value.project,
        command: r.command,
        row_count: r.rowCount,
        columns: r.fields.map((f) => f.name),
        rows: r.rows.slice(0, max).map(plainRow),
        truncated: r.rows.length > max,
        untrusted_data: UNTRUSTED_NOTE,
      })
    },
  )
}
