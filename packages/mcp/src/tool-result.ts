import type { ExecutorError } from '@ddl/executor/internal'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import type { ApprovalError } from './approval-error.js'
import type { ProjectError } from './projects.js'

/** What a tool's `structuredContent` says it did. */
export type ToolStatus = 'ok' | 'executed' | 'rehearsed' | 'classified' | 'pending_approval' | 'refused' | 'failed'

/** Any error a tool reports to the model. */
export type ToolError = ExecutorError | ApprovalError | ProjectError

/**
 * A tool result for a model: the text it reads, and the same facts as `structuredContent`
 * (with `status` first) for clients that use them. Never throws.
 */
export function toolResult(
  status: ToolStatus,
  text: string,
  structured: Readonly<Record<string, unknown>> = {},
): CallToolResult {
  return {
    content: [{ type: 'text', text }],
    structuredContent: { status, ...structured },
    ...(status === 'refused' || status === 'failed' ? { isError: true } : {}),
  }
}

/**
 * The result for an error: `refused` when nothing was sent (the gate, an approval, a project, input),
 * `failed` when the server or the connection failed. The text is the error's own message (it says
 * what happened and what to do) plus `next`. Never throws.
 */
export function errorResult(error: ToolError, next?: string): CallToolResult {
  const status: ToolStatus = sentNothing(error) ? 'refused' : 'failed'
  const message = forAgent(error.message)
  const extra: Record<string, unknown> = { error: error.kind, message }
  if (error.kind === 'PostgresError') {
    extra.sqlstate = error.code
    if (error.line !== undefined) extra.line = error.line
  }
  if (error.kind === 'SafetyError') extra.reason = error.reason
  if (error.kind === 'ApprovalError') {
    extra.reason = error.problem
    if (error.approvalId !== undefined) extra.approval_id = error.approvalId
  }
  if (next !== undefined) extra.next_step = next
  return toolResult(status, next === undefined ? message : `${message}\nNext step: ${next}`, extra)
}

/** Advice written for library callers and the CLI, and what it means over MCP. */
const FOR_AGENT: readonly (readonly [RegExp, string])[] = [
  [
    /Use (iKnowWhatImDoing: true|confirm: true|--i-know-what-im-doing|--confirm) to override/g,
    "Over MCP, this needs a person's approval: call execute_sql and a pending approval is made",
  ],
  [/This operation requires (confirm: true|--confirm)/g, "This operation needs a person's approval"],
  [/pass them as one script or use transaction\(\)/g, 'send them as one script in one execute_sql call'],
  [/Run it on its own with execute\(\), outside transaction\(\)\./g, 'Send it alone in its own execute_sql call.'],
  [/`ddl schema` lists the tables\./g, 'list_tables lists the tables.'],
  [/\(ddl schema, ddl query\)/g, '(get_schema, query)'],
]

/**
 * An error message with advice a model can follow over MCP: approvals instead of flags, tools
 * instead of CLI commands and library calls. Never throws.
 *
 * @example
 * forAgent('Use iKnowWhatImDoing: true to override') // "Over MCP, this needs a person's approval: ..."
 */
export function forAgent(message: string): string {
  let out = message
  for (const [pattern, replacement] of FOR_AGENT) out = out.replace(pattern, replacement)
  return out
}

function sentNothing(error: ToolError): boolean {
  switch (error.kind) {
    case 'SafetyError':
    case 'ParseError':
    case 'InputError':
    case 'ConfigError':
    case 'ApprovalError':
    case 'ProjectError':
    case 'AuditError':
      return true
    case 'ConnectionError':
    case 'PostgresError':
    case 'MigrationError':
      return false
    case 'UndoError':
      // Keeping refused or a restore conflicted: the transaction was rolled back either way.
      return true
  }
}
