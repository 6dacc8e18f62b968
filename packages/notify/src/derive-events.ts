import type { AuditRecord, AuditTier } from '@ddl/audit'
import type { NotifyEvent, NotifyStatement } from './notify-event.js'

/** A record as read back: the undo link is read when present (`kept:<id>`), never required. */
export type ReadRecord = AuditRecord & { readonly undo?: string }

const TIER_RANK: Readonly<Record<AuditTier, number>> = { safe: 0, cautious: 1, destructive: 2 }

const REQUESTED = /^mcp approval (\S+): waiting for a person$/
const GRANTED = /^mcp approval (\S+): approved by (.+) via (\S+), until (\S+)$/
const DENIED = /^mcp approval (\S+): denied by (.+)$/
const REFUSED = /^mcp approval(?: (\S+))?: refused$/
/** The effect check's refusals: the reason name when a record carries it, else its message. */
const EFFECT_REFUSAL = /effect-exceeds-|^Effect exceeds/

/**
 * The events a run of audit records means, oldest first. Records written by one append (one
 * statement batch: same time, actor, project, outcome and source, one after the other) make at most
 * one event. Only what the records say is used: a notification is never sent for work that was not
 * recorded. Pure; never throws.
 *
 * - `blocked` records of `mcp approval ID: waiting for a person` → `approval.requested`
 * - `dry_run` records of `mcp approval ID: approved by WHO via VIA, until T` → `approval.granted`
 * - `blocked` records of `mcp approval ID: denied by WHO` → `approval.refused`
 * - `blocked` records of `mcp approval ID: refused` → `approval.expired` when the reason says it
 *   expired, else `approval.refused`
 * - `committed` records of cautious or destructive statements → `work.committed` (sinks choose the tier)
 * - `failed` / `rolled_back` records whose error is the effect check's → `work.refused`
 *
 * @example
 * deriveEvents(records).filter((e) => e.type === 'work.committed')
 */
export function deriveEvents(records: readonly ReadRecord[]): NotifyEvent[] {
  const events: NotifyEvent[] = []
  for (const batch of batchesOf(records)) {
    const event = eventOf(batch)
    if (event !== undefined) events.push(event)
  }
  return events
}

function batchesOf(records: readonly ReadRecord[]): ReadRecord[][] {
  const batches: ReadRecord[][] = []
  let current: ReadRecord[] = []
  for (const record of records) {
    const first = current[0]
    if (first !== undefined && !sameBatch(first, record)) {
      batches.push(current)
      current = []
    }
    current.push(record)
  }
  if (current.length > 0) batches.push(current)
  return batches
}

function sameBatch(a: ReadRecord, b: ReadRecord): boolean {
  return (
    a.time === b.time &&
    a.actor === b.actor &&
    a.project === b.project &&
    a.outcome === b.outcome &&
    a.source === b.source
  )
}

function eventOf(batch: readonly ReadRecord[]): NotifyEvent | undefined {
  const first = batch[0]
  const last = batch[batch.length - 1]
  if (first === undefined || last === undefined) return undefined
  const source = first.source ?? ''
  const base = {
    id: `evt_${first.hash.slice(0, 24)}`,
    time: first.time,
    project: first.project,
    actor: first.actor,
    tier: maxTier(batch),
    ...(first.source !== undefined ? { source: first.source } : {}),
    statements: batch.map(statementOf),
    record: { firstSeq: first.seq, lastSeq: last.seq, hash: last.hash },
  }
  if (first.outcome === 'blocked') {
    const requested = REQUESTED.exec(source)
    if (requested?.[1] !== undefined) {
      const id = requested[1]
      return { ...base, type: 'approval.requested', approval: { id, command: `ddl approve ${id}` } }
    }
    const denied = DENIED.exec(source)
    if (denied?.[1] !== undefined && denied[2] !== undefined) {
      return {
        ...base,
        type: 'approval.refused',
        approval: { id: denied[1], by: denied[2] },
        reason: 'denied by a person',
      }
    }
    const refused = REFUSED.exec(source)
    if (refused !== null) {
      const reason = first.error ?? 'refused'
      const approval = refused[1] !== undefined ? { approval: { id: refused[1] } } : {}
      return { ...base, ...approval, type: /expired/i.test(reason) ? 'approval.expired' : 'approval.refused', reason }
    }
    return undefined
  }
  if (first.outcome === 'dry_run') {
    const granted = GRANTED.exec(source)
    if (granted?.[1] === undefined || granted[2] === undefined || granted[3] === undefined || granted[4] === undefined)
      return undefined
    return {
      ...base,
      type: 'approval.granted',
      approval: { id: granted[1], by: granted[2], via: granted[3], expiresAt: granted[4] },
    }
  }
  if (first.outcome === 'committed') {
    if (TIER_RANK[base.tier] < TIER_RANK.cautious) return undefined
    const undo = batch.map((r) => undoIdOf(r.undo)).find((id) => id !== undefined)
    const rows = totalRows(batch)
    return {
      ...base,
      type: 'work.committed',
      ...(rows !== undefined ? { rows } : {}),
      ...(undo !== undefined ? { undo } : {}),
      ...approvalOfRun(source),
    }
  }
  if (first.outcome === 'failed' || first.outcome === 'rolled_back') {
    const refusal = batch.find((r) => r.error !== undefined && EFFECT_REFUSAL.test(r.error))
    if (refusal?.error === undefined) return undefined
    return { ...base, type: 'work.refused', reason: refusal.error, ...approvalOfRun(source) }
  }
  return undefined
}

/**
 * `kept:<id>` and `substituted:<id>` (a DROP TABLE moved into ddl_undo) name an undo id; `given-up`,
 * `restores:<id>` and `purged:<id>` do not.
 */
function undoIdOf(undo: unknown): string | undefined {
  if (typeof undo !== 'string') return undefined
  const kept = /^(?:kept|substituted):(\S+)$/.exec(undo)
  return kept?.[1]
}

/** The approval an approved run names in its source: `mcp approval ID (approved by WHO via VIA)`. */
function approvalOfRun(source: string): { approval?: { id: string; by: string; via: string } } {
  const match = /^mcp approval (\S+) \(approved by (.+) via (\S+)\)$/.exec(source)
  if (match?.[1] === undefined || match[2] === undefined || match[3] === undefined) return {}
  return { approval: { id: match[1], by: match[2], via: match[3] } }
}

function statementOf(record: ReadRecord): NotifyStatement {
  return {
    sql: record.statement,
    tier: record.tier,
    ...(record.rowsAffected !== undefined ? { rows: record.rowsAffected } : {}),
  }
}

function maxTier(batch: readonly ReadRecord[]): AuditTier {
  let tier: AuditTier = 'safe'
  for (const r of batch) if (TIER_RANK[r.tier] > TIER_RANK[tier]) tier = r.tier
  return tier
}

function totalRows(batch: readonly ReadRecord[]): number | undefined {
  const known = batch.filter((r) => r.rowsAffected !== undefined)
  if (known.length === 0) return undefined
  return known.reduce((sum, r) => sum + (r.rowsAffected ?? 0), 0)
}
