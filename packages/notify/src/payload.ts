import { redactSecrets } from '@ddl/audit'
import type { ResolvedSink } from './notify-config.js'
import type { NotifyEvent, NotifyEventType, NotifyStatement } from './notify-event.js'

const TIER_RANK = { safe: 0, cautious: 1, destructive: 2 } as const

/** Whether `sink` subscribed to `event` (its events, and its `minTier` for committed work). Never throws. */
export function sinkWants(sink: ResolvedSink, event: NotifyEvent): boolean {
  if (!sink.events.has(event.type)) return false
  if (event.type === 'work.committed') return TIER_RANK[event.tier ?? 'safe'] >= TIER_RANK[sink.minTier]
  return true
}

/**
 * The event as a sink sees it: text redacted again (the audit log's {@link redactSecrets}), SQL
 * dropped when the sink has `includeSql: false`. Never throws.
 */
export function publicEvent(event: NotifyEvent, includeSql: boolean): NotifyEvent {
  const clean = (text: string) => redactSecrets(text)
  return {
    ...event,
    ...(event.statements !== undefined
      ? { statements: event.statements.map((s) => statementFor(s, includeSql, clean)) }
      : {}),
    ...(event.reason !== undefined ? { reason: clean(event.reason) } : {}),
    ...(event.rehearsal !== undefined ? { rehearsal: event.rehearsal.map(clean) } : {}),
  }
}

function statementFor(s: NotifyStatement, includeSql: boolean, clean: (t: string) => string): NotifyStatement {
  const { sql, ...rest } = s
  return includeSql && sql !== undefined ? { ...rest, sql: clean(sql) } : rest
}

/**
 * The body of a Standard Webhooks message: `{ type, timestamp, data }`, `data` being the event.
 *
 * @example
 * webhookBody(event, sink) // '{"type":"work.committed","timestamp":"...","data":{...}}'
 */
export function webhookBody(event: NotifyEvent, sink: ResolvedSink): string {
  return JSON.stringify({ type: event.type, timestamp: event.time, data: publicEvent(event, sink.includeSql) })
}

const TITLES: Readonly<Record<NotifyEventType, string>> = {
  'approval.requested': 'Approval requested',
  'approval.granted': 'Approval granted',
  'approval.expired': 'Approval expired',
  'approval.refused': 'Approval refused',
  'work.committed': 'Work committed',
  'work.refused': 'Run refused by the effect check (rolled back)',
  'migration.applied': 'Migrations applied',
  'migration.failed': 'Migration failed',
  'drift.found': 'Drift found',
  'audit.verify_failed': 'Audit log verification failed',
}

const ICONS: Readonly<Record<NotifyEventType, string>> = {
  'approval.requested': ':raised_hand:',
  'approval.granted': ':white_check_mark:',
  'approval.expired': ':hourglass:',
  'approval.refused': ':no_entry_sign:',
  'work.committed': ':warning:',
  'work.refused': ':octagonal_sign:',
  'migration.applied': ':package:',
  'migration.failed': ':x:',
  'drift.found': ':mag:',
  'audit.verify_failed': ':rotating_light:',
}

/** Slack mrkdwn needs `&`, `<` and `>` escaped; nothing else is special inside text. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

/** Slack limits a section's text to 3000 characters. */
function cut(text: string, max = 2800): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/**
 * The body of a Slack incoming webhook: a `text` fallback and blocks that say who, what, where, the
 * tier, rows, the undo id and, for a pending approval, the `ddl approve ID` a person runs. Never throws.
 */
export function slackBody(event: NotifyEvent, sink: ResolvedSink): string {
  const e = publicEvent(event, sink.includeSql)
  const tier = e.tier !== undefined ? ` ${e.tier.toUpperCase()}` : ''
  const headline = `${ICONS[e.type]} ${TITLES[e.type]}${e.type === 'work.committed' ? ` (${tier.trim()})` : ''}: project ${e.project}, by ${e.actor}`
  const facts: string[] = [
    `*What:* ${esc(TITLES[e.type])}`,
    `*Who:* ${esc(e.actor)}`,
    `*Where:* project \`${esc(e.project)}\`${e.database !== undefined ? ` (${esc(e.database)})` : ''}${e.source !== undefined ? `, source \`${esc(e.source)}\`` : ''}`,
  ]
  if (e.tier !== undefined) facts.push(`*Tier:*${tier}`)
  if (e.rows !== undefined) facts.push(`*Rows:* ${e.rows}`)
  if (e.undo !== undefined) facts.push(`*Undo:* \`ddl undo ${esc(e.undo)}\``)
  if (e.approval !== undefined) {
    const by = e.approval.by !== undefined ? ` by ${esc(e.approval.by)}` : ''
    facts.push(
      `*Approval:* \`${esc(e.approval.id)}\`${by}${e.approval.expiresAt !== undefined ? `, until ${esc(e.approval.expiresAt)}` : ''}`,
    )
  }
  if (e.reason !== undefined) facts.push(`*Reason:* ${esc(cut(e.reason, 600))}`)
  if (e.migrations !== undefined && e.migrations.length > 0) facts.push(`*Migrations:* ${esc(e.migrations.join(', '))}`)
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: cut(`*${esc(headline)}*\n${facts.join('\n')}`) } },
  ]
  const statements = e.statements ?? []
  if (statements.length > 0) {
    const lines = statements.map((s) => {
      const rows = s.rows !== undefined ? `, ${s.rows} row${s.rows === 1 ? '' : 's'}` : ''
      const findings = (s.findings ?? []).map((f) => `\n    ${f.tier}: ${f.message}`).join('')
      return `[${s.tier}${rows}] ${s.sql ?? '(SQL omitted by configuration)'}${findings}`
    })
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `\`\`\`${esc(cut(lines.join('\n'), 2700))}\`\`\`` } })
  }
  if (e.rehearsal !== undefined && e.rehearsal.length > 0) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: cut(`*Rehearsal (run, then rolled back):*\n${e.rehearsal.map((r) => `• ${esc(r)}`).join('\n')}`),
      },
    })
  }
  if (e.type === 'approval.requested' && e.approval?.command !== undefined) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `*To approve*, review the SQL and run in your own terminal (never through the agent):\n\`${esc(e.approval.command)}\``,
      },
    })
  }
  return JSON.stringify({ text: headline, blocks })
}
