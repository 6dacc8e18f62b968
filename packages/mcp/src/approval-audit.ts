import type { AuditError, AuditLog } from '@ddl/audit'
import { type Plan, requiredFlag, type Tier } from '@ddl/classifier'
import { auditIds, recordAll } from '@ddl/executor/internal'
import type { ResultAsync } from 'neverthrow'

/**
 * One step in an approval's life, as the audit log records it. The audit log's outcomes are those of
 * a gated statement, so each step maps onto one, with `source` saying which step it is:
 *
 * | step | outcome | flags | source |
 * |---|---|---|---|
 * | `requested` | `blocked` | none | `mcp approval ID: waiting for a person` |
 * | `approved` | `dry_run` (nothing was sent) | the flag the tier needs, `dryRun` | `mcp approval ID: approved by WHO via cli, until TIME` |
 * | `denied` | `blocked` | none | `mcp approval ID: denied by WHO` |
 * | `refused` | `blocked` | none | `mcp approval ID: refused (expired)`, with the reason in `error` |
 * | `read-only` | `blocked` | none | `mcp read-only` |
 * | `gate` | `blocked` | none | `mcp gate` (parse errors, transaction control, ...) |
 *
 * The run an approval allows is then recorded by the executor (`intent`, `committed`, ...) with the
 * flag set and `source: mcp approval ID (approved by WHO via cli)`.
 */
export type ApprovalEvent =
  | { readonly step: 'requested'; readonly id: string; readonly actor: string }
  | {
      readonly step: 'approved'
      readonly id: string
      readonly actor: string
      readonly via: string
      readonly tier: Tier
      readonly expiresAt: string
    }
  | { readonly step: 'denied'; readonly id: string; readonly actor: string }
  | { readonly step: 'refused'; readonly id: string | undefined; readonly actor: string; readonly reason: string }
  | { readonly step: 'read-only' | 'gate'; readonly actor: string; readonly reason: string }

/**
 * Records one approval step for every statement of `plan` in one fsynced batch. Fails with
 * `AuditError`; the caller must not go on to run anything when an `approved` step was not recorded.
 * Never throws.
 *
 * @example
 * await recordApprovalEvent(log, 'smoothed', plan, { step: 'requested', id: 'ap-7k2m9xq4ra', actor: 'mcp:claude-code' })
 */
export function recordApprovalEvent(
  log: AuditLog,
  project: string,
  plan: Plan,
  event: ApprovalEvent,
): ResultAsync<unknown, AuditError> {
  const granted = event.step === 'approved' ? requiredFlag(event.tier) : 'none'
  const flags = {
    confirm: granted === 'confirm',
    iKnowWhatImDoing: granted === 'iKnowWhatImDoing',
    dryRun: event.step === 'approved',
    rehearse: false,
  }
  const scope = { log, project, source: sourceOf(event), actor: event.actor }
  const reason =
    event.step === 'refused' || event.step === 'read-only' || event.step === 'gate' ? event.reason : undefined
  return recordAll(scope, auditIds(plan.statements), flags, event.step === 'approved' ? 'dry_run' : 'blocked', () =>
    reason === undefined ? {} : { error: reason },
  )
}

/**
 * The audit `source` of an approved run: which approval let it through, and who gave it. Never throws.
 *
 * @example
 * approvedRunSource('ap-7k2m9xq4ra', 'ada', 'cli') // 'mcp approval ap-7k2m9xq4ra (approved by ada via cli)'
 */
export function approvedRunSource(id: string, approvedBy: string, via: string): string {
  return `mcp approval ${id} (approved by ${approvedBy} via ${via})`
}

function sourceOf(event: ApprovalEvent): string {
  switch (event.step) {
    case 'requested':
      return `mcp approval ${event.id}: waiting for a person`
    case 'approved':
      return `mcp approval ${event.id}: approved by ${event.actor} via ${event.via}, until ${event.expiresAt}`
    case 'denied':
      return `mcp approval ${event.id}: denied by ${event.actor}`
    case 'refused':
      return event.id === undefined ? 'mcp approval: refused' : `mcp approval ${event.id}: refused`
    case 'read-only':
      return 'mcp read-only'
    case 'gate':
      return 'mcp gate'
  }
}
