import type { Plan } from '@ddl/classifier'
import { classifySql, type UndoEntry, UndoError } from '@ddl/executor/internal'
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { approvedRunSource } from '../approval-audit.js'
import { clearWork } from '../approval-flow.js'
import { pendingResult } from '../pending-result.js'
import type { ToolContext } from '../tool-context.js'
import { openProject, projectField, refuseReadOnly } from '../tool-kit.js'
import { errorResult, toolResult } from '../tool-result.js'

const DESCRIPTION = `Put back what an earlier run removed (rows a DELETE/UPDATE/MERGE/TRUNCATE changed, a dropped table with everything on it, dropped views/indexes/functions/triggers/policies), as it was just before that run, in one transaction. The id is the run's undo id (result.undo.id of a run, or \`ddl undo --list\`).
Undo ALWAYS waits for a person's approval, whatever the server's settings: you get a pending approval and must stop; a person approves it (\`ddl approve ID\` in their terminal, or your client's prompt), then call undo again with the same id and approval_id. When later changes conflict (a new table of the same name, a row re-inserted with the same key) it is refused whole and says what conflicts; nothing is restored.`

/** What the person approves: the undo id and what it puts back, as text the approval is bound to. */
function undoText(entry: UndoEntry): string {
  const rows = Object.entries(entry.rows)
    .map(([t, n]) => `${t}: ${n} row${n === 1 ? '' : 's'}`)
    .join('; ')
  const statements = entry.statements.map((s) => `line ${s.line}: ${s.statement}`).join(' | ')
  return `ddl undo ${entry.id} (run of ${entry.createdAt} by ${entry.actor ?? 'unknown'}: ${statements}) puts back ${entry.objects.join(', ')}${rows === '' ? '' : ` (${rows})`}`
}

/**
 * The undo as a one-statement destructive plan for the approval flow: the statement's text is what
 * the person reads and what the audit records. Built from the classification of a placeholder so
 * its shape is the classifier's own; nothing of it is ever sent to the server.
 */
async function undoPlan(text: string): Promise<Plan | undefined> {
  const placeholder = await classifySql('SELECT 1', {})
  if (placeholder.isErr()) return undefined
  const base = placeholder.value.statements[0]
  if (base === undefined) return undefined
  return {
    ...placeholder.value,
    tier: 'destructive',
    requires: 'iKnowWhatImDoing',
    statements: [
      {
        ...base,
        text,
        kind: 'Undo',
        verdict: {
          ...base.verdict,
          tier: 'destructive',
          findings: [
            {
              rule: 'undo',
              tier: 'destructive',
              severity: 'error',
              message:
                'Undo puts back the rows and objects that run removed and removes what it wrote to the same rows; changes made since to those rows are lost.',
              hint: 'Check ddl undo --list and the audit log for the run, then approve.',
            },
          ],
        },
      },
    ],
  }
}

/** Registers `undo`: restores a kept run; always after a person's approval. */
export function registerUndo(server: McpServer, ctx: ToolContext): void {
  server.registerTool(
    'undo',
    {
      title: 'Undo a run (always needs a person’s approval)',
      description: DESCRIPTION,
      inputSchema: {
        id: z.string().max(64).describe('The undo id of the run (result.undo.id), e.g. u3f9a1c2b7d01.'),
        project: projectField,
        approval_id: z.string().max(64).optional().describe('The id of the approval a person gave for this undo.'),
      },
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
    },
    async ({ id, project, approval_id }, extra): Promise<CallToolResult> => {
      const opened = openProject(ctx, project)
      if (opened.isErr()) return opened.error
      const handle = opened.value
      if (ctx.settings.readOnly) return refuseReadOnly(ctx, handle, undefined, 'undo')
      const listed = await handle.api.listUndo()
      if (listed.isErr()) return errorResult(listed.error)
      const entry = listed.value.find((e) => e.id === id)
      if (entry === undefined || entry.restoredAt !== null) {
        const error =
          entry === undefined
            ? new UndoError(`No kept run has the id ${id}; ddl undo --list shows what can be undone.`, 'not-found')
            : new UndoError(`Run ${id} was already undone at ${entry.restoredAt}.`, 'already-undone')
        return errorResult(error, 'Check the id with the person; nothing was sent.')
      }
      const text = undoText(entry)
      const plan = await undoPlan(text)
      if (plan === undefined)
        return toolResult('failed', 'The undo could not be described for approval; nothing was sent.')
      // Undo always needs a person: no tier runs unattended here, whatever mcp.unattendedTiers says.
      const attended: ToolContext = { ...ctx, settings: { ...ctx.settings, unattendedTiers: [] } }
      const clearance = await clearWork(
        attended,
        { project: handle.project, sql: text, plan, tier: 'destructive', origin: `undo ${id}`, log: handle.log },
        { approvalId: approval_id, relatedRequestId: extra.requestId, signal: extra.signal },
      )
      if (clearance.isErr()) {
        return errorResult(
          clearance.error,
          clearance.error.kind === 'ApprovalError'
            ? 'Call undo again without approval_id to ask a person for a new approval.'
            : undefined,
        )
      }
      const c = clearance.value
      if (c.kind === 'pending') return pendingResult(c.request, c.reused, 'undo')
      if (c.kind !== 'approved') return toolResult('refused', 'Undo needs a person’s approval; nothing was sent.')
      const api = ctx.projects.open(handle.project, approvedRunSource(c.grant.id, c.grant.approvedBy, c.grant.via))
      try {
        const run = await api.undo(id, { iKnowWhatImDoing: true })
        if (run.isErr()) {
          return errorResult(
            run.error,
            `The approval ${c.grant.id} is used up; ask for a new one after fixing the cause.`,
          )
        }
        return toolResult(
          'executed',
          `${run.value.message}\nRan on project "${handle.project}" with approval ${c.grant.id} (approved by ${c.grant.approvedBy} via ${c.grant.via}); the approval is now used.`,
          {
            project: handle.project,
            undo_id: id,
            objects: run.value.objects,
            rows: run.value.rows,
            approval_id: c.grant.id,
            approved_by: c.grant.approvedBy,
          },
        )
      } finally {
        await api.close()
      }
    },
  )
}
