import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { ApprovalRequest } from './approval.js'
import { describeTarget } from './projects.js'
import { statementLines, tierName } from './render.js'
import { toolResult } from './tool-result.js'

/**
 * The result a model gets when work waits for a person: what is waiting and why, the approval id,
 * the statements with their tiers and findings, the rehearsal, and the next step (stop; a person runs
 * `ddl approve ID`; then call the same tool with the same input). Never throws.
 */
export function pendingResult(
  request: ApprovalRequest,
  reused: boolean,
  tool: string,
  warning?: string,
): CallToolResult {
  const minutes = Math.max(1, Math.round((Date.parse(request.expiresAt) - Date.now()) / 60_000))
  const again =
    tool === 'execute_sql'
      ? `call execute_sql again with exactly the same SQL (or approval_id "${request.id}")`
      : `call ${tool} again with the same arguments and approval_id "${request.id}"`
  const lines = [
    `Not run: this is ${tierName(request.tier)} work and needs a person's approval. Nothing was changed.`,
    `${reused ? 'Still waiting' : 'Waiting'} for approval ${request.id} (project "${request.project}", database ${describeTarget(request.target)}, expires ${request.expiresAt}, in about ${minutes} min).`,
    'Statements:',
    ...statementLines(request.statements),
  ]
  if (request.rehearsal !== undefined && request.rehearsal.length > 0) {
    lines.push('Rehearsal (ran in a transaction, then rolled back; nothing changed):')
    lines.push(...request.rehearsal.map((f) => `  ${f}`))
  }
  const next =
    `Stop and ask the person to review and approve it in their own terminal: \`ddl approve ${request.id}\` ` +
    `(or to refuse it: \`ddl approve --deny ${request.id}\`). When they say it is approved, ${again}; it runs once. ` +
    'You cannot approve it yourself: do not run `ddl approve`, and do not change the SQL (changed SQL needs a new approval). ' +
    'Consider a safer alternative from the hints above.'
  lines.push(`Next step: ${next}`)
  if (warning !== undefined) lines.push(`Warning for the person: ${warning}`)
  return toolResult('pending_approval', lines.join('\n'), {
    approval_id: request.id,
    project: request.project,
    tier: request.tier,
    sql_sha256: request.sqlSha256,
    expires_at: request.expiresAt,
    statements: request.statements,
    rehearsal: request.rehearsal ?? [],
    database: request.target,
    approve_command: `ddl approve ${request.id}`,
    ...(warning !== undefined ? { warning } : {}),
    next_step: next,
  })
}
