import { createHash } from 'node:crypto'
import type { Tier } from '@ddl/classifier'
import type { CheckedFile, Reporter } from './report.js'

/** GitLab code-quality severities. */
export type GitlabSeverity = 'info' | 'minor' | 'major' | 'critical' | 'blocker'

/** One issue of a GitLab code-quality report (the subset of the Code Climate format GitLab reads). */
export interface GitlabIssue {
  readonly type: 'issue'
  readonly check_name: string
  readonly description: string
  readonly categories: readonly string[]
  readonly severity: GitlabSeverity
  /** Stable across runs for the same finding at the same place, so GitLab can tell new from fixed. */
  readonly fingerprint: string
  readonly location: { readonly path: string; readonly lines: { readonly begin: number } }
}

/** destructive → critical, cautious → major, safe (a hazard) → minor. */
export function gitlabSeverity(tier: Tier): GitlabSeverity {
  return tier === 'destructive' ? 'critical' : tier === 'cautious' ? 'major' : 'minor'
}

/**
 * A GitLab code-quality report (`artifacts: reports: codequality:`): one JSON array of every finding,
 * written at the end of the run. The description carries the hint and the rule page.
 *
 * @example
 * ddl check migrations --format gitlab > gl-code-quality-report.json
 */
export function gitlabReporter(write: (text: string) => void): Reporter {
  const issues: GitlabIssue[] = []
  return {
    file(file: CheckedFile) {
      for (const statement of file.plan.statements) {
        for (const finding of statement.verdict.findings) {
          const fingerprint = createHash('sha256')
            .update(`${file.uri}\0${finding.rule}\0${statement.text}\0${finding.message}`)
            .digest('hex')
            .slice(0, 32)
          issues.push({
            type: 'issue',
            check_name: finding.rule,
            description: `${finding.message} Hint: ${finding.hint} (docs/rules/${finding.rule}.md)`,
            categories: [finding.tier === 'safe' ? 'Bug Risk' : 'Security'],
            severity: gitlabSeverity(finding.tier),
            fingerprint,
            location: { path: file.uri, lines: { begin: statement.span.line } },
          })
        }
      }
    },
    end() {
      write(`${JSON.stringify(issues, null, 2)}\n`)
    },
  }
}
