import type { AuditOutcome, AuditRecord } from './audit-entry.js'

/** The marker each outcome adds at the end of a seed line; `committed` adds none, as in the seed. */
const OUTCOME_MARKERS: Readonly<Record<AuditOutcome, string>> = {
  intent: 'INTENT',
  committed: '',
  rolled_back: 'ROLLED BACK',
  failed: 'FAILED',
  blocked: 'BLOCKED',
  dry_run: 'DRY RUN',
  rehearsed: 'REHEARSED',
}

/**
 * Renders a record in the seed's one-line format:
 * `time (UTC) | project | TIER | statement on one line [| confirm=True] [| override=True] [| OUTCOME] [| sqlstate=XXXXX]`.
 *
 * A committed record shows exactly as the seed's log did, so these are byte-exact:
 * ```
 * 2026-01-29 10:15:32 | smoothed | SAFE | CREATE TABLE users (id uuid PRIMARY KEY)
 * 2026-01-29 10:16:01 | smoothed | CAUTIOUS | TRUNCATE users | confirm=True
 * 2026-01-29 10:20:45 | smoothed | DESTRUCTIVE | DROP TABLE old_users | override=True
 * ```
 * Other outcomes end with a marker: `| INTENT`, `| ROLLED BACK`, `| FAILED`, `| BLOCKED`, `| DRY RUN`,
 * `| REHEARSED`; a failure with a SQLSTATE then adds `| sqlstate=42P01`; a tier a policy lowered adds
 * `| lowered=drop-table:destructive>safe policy=3f1c0a9b2e4d`, a policy approval `| policy-approved=3f1c0a9b2e4d`. Whitespace runs (newlines
 * too) become one space, and other control characters and bidirectional overrides are shown as
 * `\u{1b}`, so one record is always one line and cannot send terminal escapes. Never throws.
 *
 * @example
 * ```ts
 * formatSeedLine(record) // '2026-01-29 10:20:45 | smoothed | DESTRUCTIVE | DROP TABLE old_users | override=True'
 * ```
 */
export function formatSeedLine(record: AuditRecord): string {
  const parts = [seedTime(record.time), oneLine(record.project), record.tier.toUpperCase(), oneLine(record.statement)]
  if (record.flags.confirm) parts.push('confirm=True')
  if (record.flags.iKnowWhatImDoing) parts.push('override=True')
  const marker = OUTCOME_MARKERS[record.outcome]
  if (marker !== '') parts.push(marker)
  if (record.sqlstate !== undefined) parts.push(`sqlstate=${oneLine(record.sqlstate)}`)
  const policy = record.policy
  if (policy !== undefined) {
    const hash = policy.hash === undefined ? '' : policy.hash.slice(0, 12)
    if (policy.approved === true) parts.push(`policy-approved=${hash}`)
    for (const l of policy.lowered ?? []) parts.push(`lowered=${oneLine(l.rule)}:${l.from}>${l.to} policy=${hash}`)
  }
  return parts.join(' | ')
}

/** `2026-01-29T10:15:32.104Z` → `2026-01-29 10:15:32` (UTC, seconds truncated). */
function seedTime(time: string): string {
  const date = new Date(time)
  if (Number.isNaN(date.getTime())) return oneLine(time)
  const iso = date.toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
}

function oneLine(text: string): string {
  let out = ''
  for (const char of text.replace(/\s+/g, ' ').trim()) {
    const code = char.codePointAt(0) ?? 0
    out += isInvisibleControl(code) ? `\\u{${code.toString(16)}}` : char
  }
  return out
}

/** C0 and C1 controls, and the bidirectional overrides that can make a line read differently. */
function isInvisibleControl(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  )
}
