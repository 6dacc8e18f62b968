import type { TableSchema } from '@ddl/executor/internal'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { UNTRUSTED_NOTE, untrustedData } from '../render.js'
import type { ToolContext } from '../tool-context.js'
import { openProject, projectField } from '../tool-kit.js'
import { errorResult, toolResult } from '../tool-result.js'

const DESCRIPTION = `Describe one table, view or materialized view: columns (type, nullability, default, identity, generated), indexes (with validity), constraints (with whether they are validated) and its comment. Read-only.`

/** Registers `get_schema`: the structure of one relation. */
export function registerGetSchema(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'get_schema',
    {
      title: 'Get the schema of a table',
      description: DESCRIPTION,
      inputSchema: {
        table: z
          .string()
          .min(1)
          .max(300)
          .describe('The table as written in SQL: users, public.users, or "Mixed Case" (quoted).'),
        project: projectField,
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ table, project }) => {
      const opened = openProject(ctx, project)
      if (opened.isErr()) return opened.error
      const result = await opened.value.api.getSchema(table)
      if (result.isErr()) return errorResult(result.error, 'list_tables shows the tables.')
      const s = result.value
      return toolResult('ok', untrustedData(`definition of ${s.qualifiedName}`, describeTable(s)), {
        project: opened.value.project,
        schema: s.schema,
        name: s.name,
        qualified_name: s.qualifiedName,
        kind: s.kind,
        columns: s.columns,
        indexes: s.indexes,
        constraints: s.constraints,
        comment: s.comment,
        untrusted_data: UNTRUSTED_NOTE,
      })
    },
  )
}

function describeTable(s: TableSchema): string {
  const lines = [`${s.kind} ${s.qualifiedName}${s.comment !== null ? ` -- ${s.comment}` : ''}`, 'Columns:']
  for (const c of s.columns) {
    const parts = [c.type, c.nullable ? 'null' : 'not null']
    if (c.default !== null) parts.push(`default ${c.default}`)
    if (c.identity !== null) parts.push(`generated ${c.identity} as identity`)
    if (c.generated !== null) parts.push(`generated always as (${c.generated})`)
    lines.push(`  ${c.name} ${parts.join(' ')}`)
  }
  if (s.indexes.length > 0) lines.push('Indexes:')
  for (const i of s.indexes) lines.push(`  ${i.name}: ${i.definition}${i.valid ? '' : ' (INVALID)'}`)
  if (s.constraints.length > 0) lines.push('Constraints:')
  for (const c of s.constraints) lines.push(`  ${c.name}: ${c.definition}${c.validated ? '' : ' (NOT VALID)'}`)
  return lines.join('\n')
}
