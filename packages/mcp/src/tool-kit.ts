import type { AuditLog } from '@ddl/audit'
import type { Plan } from '@ddl/classifier'
import { classifySql, type ExecutorError, type PostgresAPI } from '@ddl/executor/internal'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { err, ok, type Result } from 'neverthrow'
import { z } from 'zod'
import { recordApprovalEvent } from './approval-audit.js'
import type { ToolContext } from './tool-context.js'
import { errorResult, toolResult } from './tool-result.js'

/** The `project` argument every database tool takes. */
export const projectField = z
  .string()
  .min(1)
  .optional()
  .describe('The project (a database) to act on, as configured for this server. Omit it to use the default project.')

/** The `sql` argument of the tools that take SQL. */
export const sqlField = (what: string) =>
  z.string().min(1).max(1_000_000).describe(`${what} Postgres SQL; several statements may be separated by semicolons.`)

/** A project the call may use, its API, and its audit log. */
export interface ProjectHandle {
  readonly project: string
  readonly api: PostgresAPI
  readonly log: AuditLog
}

/** Resolves the call's project; a refusal (not allowed, bad configuration) is the tool's result. Never throws. */
export function openProject(ctx: ToolContext, name: string | undefined): Result<ProjectHandle, CallToolResult> {
  const project = ctx.projects.resolve(name)
  if (project.isErr()) return err(errorResult(project.error))
  const api = ctx.projects.api(project.value)
  const context = api.context()
  if (context.isErr()) return err(errorResult(context.error))
  return ok({ project: project.value, api, log: context.value.audit.log })
}

/** Classifies SQL with the project's policy (as the executor will). Fails with `InputError`. Never throws. */
export async function classifyFor(handle: ProjectHandle, sql: string): Promise<Result<Plan, ExecutorError>> {
  const context = handle.api.context()
  if (context.isErr()) return err(context.error)
  return classifySql(sql, context.value.classifyOptions)
}

/**
 * The refusal of a write in read-only mode, recorded in the audit log (one `blocked` record per
 * statement, `source: mcp read-only`). Never throws.
 */
export async function refuseReadOnly(
  ctx: ToolContext,
  handle: ProjectHandle,
  plan: Plan | undefined,
  tool: string,
): Promise<CallToolResult> {
  const reason = `read-only mode: ${tool} is refused; nothing was sent.`
  if (plan !== undefined) {
    const recorded = await recordApprovalEvent(handle.log, handle.project, plan, {
      step: 'read-only',
      actor: ctx.actor(),
      reason,
    })
    if (recorded.isErr()) ctx.log(`A read-only refusal could not be recorded: ${recorded.error.message}`)
  }
  return toolResult(
    'refused',
    `Refused: this server is in read-only mode, so ${tool} sends nothing to the database. Nothing was changed.\n` +
      'Next step: use query, get_schema or list_tables to read; to change the schema, give the SQL to a person ' +
      'to run themselves (classify_sql shows its tier).',
    { reason: 'read-only', project: handle.project },
  )
}
