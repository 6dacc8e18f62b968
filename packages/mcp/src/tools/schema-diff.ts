import { resolve } from 'node:path'
import { detectDrift, diffSources, renderSql } from '@ddl/schema'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { z } from 'zod'
import { UNTRUSTED_NOTE, untrustedData } from '../render.js'
import type { ToolContext } from '../tool-context.js'
import { openProject, projectField } from '../tool-kit.js'
import { toolResult } from '../tool-result.js'

const DIFF_DESCRIPTION = `Show the SQL that turns a migrations directory's schema into the project's live schema (direction "to_database"), or the live schema into the directory's (direction "to_migrations"). The directory is applied to a scratch database on a throwaway Postgres, never to the project's database. Every statement comes with its tier, lock and findings from the classifier; possible renames are listed with both alternatives. Read-only: nothing is run on the project's database. To apply SQL, use execute_sql or write it as a migration.`

const DRIFT_DESCRIPTION = `Compare the project's live database with what its applied migrations (rows of public.ddl_migrations) should have produced: objects added, changed or removed outside migrations, and tracked files edited since they were applied. Read-only.`

const dirField = z
  .string()
  .max(4096)
  .optional()
  .describe("The migrations directory, relative to the server's working directory. Omit it to use the configured one.")

function migrationsDir(ctx: ToolContext, dir: string | undefined): string | undefined {
  if (dir !== undefined) return resolve(ctx.settings.cwd, dir)
  return ctx.settings.migrationsDir
}

const noDir = () =>
  toolResult('refused', 'Name the migrations directory (dir); this server has no default one.', { reason: 'no-dir' })

/** Registers `schema_diff` and `schema_drift` (both read-only). */
export function registerSchemaDiff(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'schema_diff',
    {
      title: 'Schema diff',
      description: DIFF_DESCRIPTION,
      inputSchema: {
        project: projectField,
        dir: dirField,
        direction: z.enum(['to_database', 'to_migrations']).optional().describe('Default to_database.'),
      },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ project, dir, direction }) => {
      const opened = openProject(ctx, project)
      if (opened.isErr()) return opened.error
      const where = migrationsDir(ctx, dir)
      if (where === undefined) return noDir()
      const url = ctx.projects.connectOptions(opened.value.project).url
      if (url === undefined) return toolResult('refused', 'The project has no connection.', { reason: 'connection' })
      const database = { kind: 'database' as const, url, label: `project ${opened.value.project}` }
      const migrations = { kind: 'directory' as const, path: where }
      const [from, to] = direction === 'to_migrations' ? [database, migrations] : [migrations, database]
      const result = await diffSources(from, to)
      if (result.isErr()) return toolResult('failed', result.error.message, { reason: result.error.problem })
      const d = result.value
      return toolResult('ok', untrustedData('schema diff', renderSql(d, d)), {
        untrusted_data: UNTRUSTED_NOTE,
        identical: d.statements.length === 0,
        tier: d.tier,
        requires: d.requires,
        statements: d.statements.map((s) => ({
          sql: s.sql,
          tier: s.tier,
          lock: s.lock,
          rules: s.findings.map((f) => f.rule),
        })),
        renames: d.renames.map((r) => ({ kind: r.kind, from: r.from, to: r.to, renamed: r.renamed })),
      })
    },
  )

  server.registerTool(
    'schema_drift',
    {
      title: 'Schema drift',
      description: DRIFT_DESCRIPTION,
      inputSchema: { project: projectField, dir: dirField },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ project, dir }) => {
      const opened = openProject(ctx, project)
      if (opened.isErr()) return opened.error
      const where = migrationsDir(ctx, dir)
      if (where === undefined) return noDir()
      const url = ctx.projects.connectOptions(opened.value.project).url
      if (url === undefined) return toolResult('refused', 'The project has no connection.', { reason: 'connection' })
      const report = await detectDrift({ url, label: `project ${opened.value.project}` }, where)
      if (report.isErr()) return toolResult('failed', report.error.message, { reason: report.error.problem })
      const r = report.value
      const lines = [
        r.drifted ? `Drift found on project "${opened.value.project}".` : 'No drift.',
        ...r.changedFiles.map((f) => `changed file ${f.name}`),
        ...r.missingFiles.map((f) => `missing file ${f}`),
        ...r.objects.added.map((o) => `added ${o.object}`),
        ...r.objects.removed.map((o) => `removed ${o.object}`),
        ...r.objects.changed.map((o) => `changed ${o.object}`),
      ]
      return toolResult('ok', untrustedData('drift report', lines.join('\n')), {
        untrusted_data: UNTRUSTED_NOTE,
        drifted: r.drifted,
        changed_files: r.changedFiles.map((f) => f.name),
        missing_files: r.missingFiles,
        added: r.objects.added.map((o) => o.object),
        removed: r.objects.removed.map((o) => o.object),
        changed: r.objects.changed.map((o) => o.object),
        pending: r.pending,
      })
    },
  )
}
