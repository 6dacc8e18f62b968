import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { RequestId } from '@modelcontextprotocol/sdk/types.js'
import type { ApprovalRequest } from './approval.js'
import { statementLines, tierName } from './render.js'

/** What the person answered in the client's prompt. */
export type PersonAnswer =
  /** Accepted, with the box ticked. */
  | 'approved'
  /** Declined, or accepted with the box left empty. */
  | 'declined'
  /** No answer: the client cannot ask, the person dismissed the prompt, or it timed out. */
  | 'no-answer'

/** True when the client declared that it can show a form to its user (MCP elicitation, form mode). Never throws. */
export function canElicit(server: McpServer): boolean {
  return server.server.getClientCapabilities()?.elicitation?.form !== undefined
}

/**
 * Asks the person at the MCP client to approve a request, through the client's own prompt
 * (`elicitation/create`). Only called when the client declared the capability. The person must
 * accept and tick "approve"; anything else is not an approval. Never throws.
 */
export async function askPerson(
  server: McpServer,
  request: ApprovalRequest,
  options: { readonly timeoutMs: number; readonly relatedRequestId?: RequestId; readonly signal?: AbortSignal },
): Promise<PersonAnswer> {
  if (!canElicit(server)) return 'no-answer'
  const message = [
    `An AI agent asks to run ${tierName(request.tier)} SQL on project "${request.project}" (approval ${request.id}).`,
    'Statements:',
    ...statementLines(request.statements),
    ...(request.rehearsal !== undefined && request.rehearsal.length > 0
      ? ['Rehearsal (ran in a transaction, then rolled back):', ...request.rehearsal.map((f) => `  ${f}`)]
      : []),
    '',
    'Exact SQL:',
    request.sql,
    '',
    `SHA-256 ${request.sqlSha256}. Tick "approve" and accept to let exactly this SQL run once; decline to refuse it.`,
  ].join('\n')
  try {
    const result = await server.server.elicitInput(
      {
        mode: 'form',
        message,
        requestedSchema: {
          type: 'object',
          properties: {
            approve: {
              type: 'boolean',
              title: `Run this ${request.tier} SQL once`,
              description: 'Leave unticked to refuse.',
              default: false,
            },
          },
          required: ['approve'],
        },
      },
      {
        timeout: options.timeoutMs,
        ...(options.relatedRequestId !== undefined ? { relatedRequestId: options.relatedRequestId } : {}),
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      },
    )
    if (result.action === 'accept') return result.content?.approve === true ? 'approved' : 'declined'
    if (result.action === 'decline') return 'declined'
    return 'no-answer'
  } catch {
    return 'no-answer'
  }
}
