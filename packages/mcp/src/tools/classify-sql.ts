import { gatePlan } from '@ddl/executor/internal'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { requestedStatements, statementLines, tierName } from '../render.js'
import type { ToolContext } from '../tool-context.js'
import { classifyFor, openProject, projectField, sqlField } from '../tool-kit.js'
import { errorResult, toolResult } from '../tool-result.js'

const DESCRIPTION = `Classify SQL without running it: no database is touched and nothing is recorded.
Returns each statement's safety tier (safe, cautious or destructive), what could be lost, the locks it takes, a safer alternative, and what execute_sql would do with it on this server: run it at once, wait for a person's approval, or refuse it.
Use it before execute_sql to check a change, and to rewrite risky SQL into a safer form (e.g. CREATE INDEX CONCURRENTLY, ADD CONSTRAINT ... NOT VALID).`

/** Registers `classify_sql`: the tier of SQL and what the server would do with it. */
export function registerClassifySql(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'classify_sql',
    {
      title: 'Classify SQL (no database)',
      description: DESCRIPTION,
      inputSchema: { sql: sqlField('The'), project: projectField },
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    async ({ sql, project }) => {
      const handle = openProject(ctx, project)
      if (handle.isErr()) return handle.error
      const plan = await classifyFor(handle.value, sql)
      if (plan.isErr()) return errorResult(plan.error, 'Fix the SQL and classify it again.')
      const p = plan.value
      const structural = gatePlan(p, { iKnowWhatImDoing: true }, 'execute')
      const unattended = ctx.settings.unattendedTiers.includes(p.tier)
      const verdict = ctx.settings.readOnly
        ? 'execute_sql would refuse it: this server is read-only.'
        : structural.isErr()
          ? `execute_sql would refuse it: ${structural.error.message.split('\n')[0]}`
          : unattended
            ? 'execute_sql would run it at once.'
            : "execute_sql would not run it yet: it returns an approval request, and it runs only after a person approves (in their terminal with `ddl approve ID`, or in your client's prompt)."
      const lines = [`Classification: ${tierName(p.tier)} (${p.statements.length} statements)`]
      lines.push(...statementLines(requestedStatements(p)))
      for (const s of p.statements) {
        const facts = [
          s.verdict.lock !== null ? `takes ${s.verdict.lock}` : undefined,
          s.verdict.rewrite ? 'rewrites the table' : undefined,
          s.verdict.scan ? 'scans every row under the lock' : undefined,
          s.verdict.transactional ? undefined : 'cannot run in a transaction (runs alone)',
        ].filter((f) => f !== undefined)
        if (facts.length > 0) lines.push(`  line ${s.span.line}: ${facts.join(', ')}`)
      }
      lines.push(verdict)
      if (structural.isErr()) lines.push(structural.error.message)
      const policyWarning = handle.value.api.context().match(
        (c) => c.policy.warning,
        () => undefined,
      )
      if (policyWarning !== undefined) lines.push(`Warning: ${policyWarning}`)
      return toolResult('classified', lines.join('\n'), {
        project: handle.value.project,
        tier: p.tier,
        would: ctx.settings.readOnly || structural.isErr() ? 'refuse' : unattended ? 'run' : 'wait_for_approval',
        statements: p.statements.map((s) => ({
          line: s.span.line,
          kind: s.kind,
          tier: s.verdict.tier,
          lock: s.verdict.lock,
          rewrite: s.verdict.rewrite,
          transactional: s.verdict.transactional,
          findings: s.verdict.findings,
        })),
        ...(policyWarning !== undefined ? { warnings: [policyWarning] } : {}),
      })
    },
  )
}
