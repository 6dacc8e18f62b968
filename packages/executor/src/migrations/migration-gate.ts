import { compareTiers, flagsAllow, type RequiredFlag } from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import type { FlagStyle, GateFlags } from '../gate.js'
import { type MigrationIssue, MigrationRunError } from './migration-error.js'
import type { PreparedMigration } from './migration-file.js'

/** An applied file whose bytes changed since it was applied. */
export interface ChangedMigration {
  readonly name: string
  readonly path: string
  readonly recorded: string
  readonly current: string
}

/** How a flag is written for the audience. Never throws. */
export function flagName(flag: RequiredFlag | 'acceptChanged', style: FlagStyle): string {
  switch (flag) {
    case 'none':
      return 'no flag'
    case 'confirm':
      return style === 'cli' ? '--confirm' : 'confirm: true'
    case 'iKnowWhatImDoing':
      return style === 'cli' ? '--i-know-what-im-doing' : 'iKnowWhatImDoing: true'
    case 'acceptChanged':
      return style === 'cli' ? '--accept-changed NAME' : "acceptChanged: ['NAME']"
  }
}

/** The issues of a pending file under the run's flags: its own issues, then its tier. Never throws. */
export function fileIssues(file: PreparedMigration, flags: GateFlags, style: FlagStyle): MigrationIssue[] {
  const issues = [...file.issues]
  if (issues.length === 0 && !flagsAllow(file.tier, flags)) {
    const raising = file.findings.filter((f) => compareTiers(f.tier, 'safe') > 0)
    const first = raising[0]
    const what = first !== undefined ? `line ${first.line}: ${first.message}` : `its tier is ${file.tier}`
    const more = raising.length > 1 ? ` (and ${raising.length - 1} more)` : ''
    issues.push({
      name: file.name,
      path: file.path,
      reason: 'tier',
      tier: file.tier,
      requires: file.requires,
      ...(first !== undefined ? { line: first.line } : {}),
      message: `${file.tier} file: needs ${flagName(file.requires, style)}. ${what}${more}`,
    })
  }
  return issues
}

/**
 * The gate of a run, before anything runs: every applied file must be unchanged (or its change
 * accepted), and every pending file must be runnable with the run's flags. Fails with one
 * `MigrationRunError` listing every file at fault: `checksum` when a file changed, else `refused`.
 * Never throws.
 */
export function gateMigrations(
  pending: readonly PreparedMigration[],
  changed: readonly ChangedMigration[],
  flags: GateFlags,
  style: FlagStyle,
): Result<void, MigrationRunError> {
  const checksumIssues: MigrationIssue[] = changed.map((c) => ({
    name: c.name,
    path: c.path,
    reason: 'checksum',
    message:
      `applied with checksum ${c.recorded.slice(0, 12)}…, the file now has ${c.current.slice(0, 12)}…: ` +
      'it was edited after it ran.',
  }))
  const refused = pending.flatMap((file) => fileIssues(file, flags, style))
  if (checksumIssues.length === 0 && refused.length === 0) return ok(undefined)
  const lines: string[] = []
  if (checksumIssues.length > 0) {
    const names = checksumIssues.map((i) => i.name)
    lines.push(
      checksumIssues.length === 1
        ? `Migration ${names[0]} changed after it was applied. Nothing was run.`
        : `${checksumIssues.length} migrations changed after they were applied: ${names.join(', ')}. Nothing was run.`,
    )
    for (const issue of checksumIssues) lines.push(`  ${issue.name}: ${issue.message}`)
    lines.push(
      'Databases that already ran a file never see an edit to it. Restore the file as it was applied and put ' +
        'the change in a new migration; or, when the edit changes nothing for them (a comment, formatting), ' +
        `accept it with ${flagName('acceptChanged', style)}: the new checksum is recorded and audited.`,
    )
  }
  if (refused.length > 0) {
    const files = new Set(refused.map((i) => i.name))
    lines.push(
      `${files.size} of ${pending.length} pending migration${pending.length === 1 ? '' : 's'} cannot run` +
        `${refused.some((i) => i.reason === 'tier') ? ' with the flags given' : ''}; nothing was run.`,
    )
    for (const issue of refused) lines.push(`  ${issue.name}: ${issue.message}`)
    const needs = strongestFlag(refused)
    if (needs !== 'none') {
      lines.push(
        `Flags apply to the whole run: ${flagName(needs, style)} lets every file above run. ` +
          'Check each file first (ddl migrate DIR --plan).',
      )
    }
  }
  const first = checksumIssues[0] ?? refused[0]
  return err(
    new MigrationRunError(lines.join('\n'), {
      problem: checksumIssues.length > 0 ? 'checksum' : 'refused',
      file: first?.name,
      issues: [...checksumIssues, ...refused],
      line: checksumIssues.length > 0 ? undefined : first?.line,
    }),
  )
}

function strongestFlag(issues: readonly MigrationIssue[]): RequiredFlag {
  let flag: RequiredFlag = 'none'
  for (const issue of issues) {
    if (issue.requires === 'iKnowWhatImDoing') return 'iKnowWhatImDoing'
    if (issue.requires === 'confirm') flag = 'confirm'
  }
  return flag
}
