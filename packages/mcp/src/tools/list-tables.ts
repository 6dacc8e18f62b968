import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { UNTRUSTED_NOTE, untrustedData } from '../render.js'
import type { ToolContext } from '../tool-context.js'
import { openProject, projectField } from '../tool-kit.js'
import { errorResult, toolResult } from '../tool-result.js'

const DESCRIPTION = `List the tables, views and materialized views of a project (outside Postgres's own schemas), with the planner's row estimates. Read-only. Also says which projects this server may use.`

/** Registers `list_tables`. */
export function registerListTables(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'list_tables',
    {
      title: 'List tables',
      description: DESCRIPTION,
      inputSchema: { project: projectField },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ project }) => {
      const opened = openProject(ctx, project)
      if (opened.isErr()) return opened.error
      const result = await opened.value.api.listTables()
      if (result.isErr()) return errorResult(result.error)
      const tables = result.value
      const lines = [
        `${tables.length} relation${tables.length === 1 ? '' : 's'} in project "${opened.value.project}" ` +
          `(this server may use: ${ctx.settings.projects.join(', ')}${ctx.settings.readOnly ? '; read-only' : ''}).`,
        untrustedData(
          'list of relations',
          tables
            .map(
              (t) =>
                `  ${t.schema}.${t.name} (${t.kind}${t.estimatedRows !== null ? `, ~${t.estimatedRows} rows` : ''})`,
            )
            .join('\n'),
        ),
      ]
      return toolResult('ok', lines.join('\n'), {
        project: opened.value.project,
        projects: ctx.settings.projects,
        read_only: ctx.settings.readOnly,
        untrusted_data: UNTRUSTED_NOTE,
        tables: tables.map((t) => ({ schema: t.schema, name: t.name, kind: t.kind, estimated_rows: t.estimatedRows })),
      })
    },
  )
}
