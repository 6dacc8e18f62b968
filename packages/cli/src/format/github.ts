import type { Finding } from '@ddl/classifier'
import type { Reporter, RunSummary } from './report.js'

/** Escapes a workflow command's message (`%`, CR, LF), per GitHub's toolkit `escapeData`. */
export function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A')
}

/** Escapes a workflow command's property value (also `:` and `,`), per GitHub's toolkit `escapeProperty`. */
export function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C')
}

/** `error` for destructive, `warning` for cautious, `notice` for hazards (which leave the tier safe). */
function command(finding: Finding): 'error' | 'warning' | 'notice' {
  return finding.tier === 'destructive' ? 'error' : finding.tier === 'cautious' ? 'warning' : 'notice'
}

/**
 * GitHub Actions workflow commands, one per finding, which GitHub shows as annotations on the pull
 * request: `::error file=PATH,line=L,col=C,title=RULE::MESSAGE`. Then the text summary line.
 */
export function githubReporter(write: (text: string) => void, summaryLine: (summary: RunSummary) => string): Reporter {
  return {
    file(file) {
      for (const statement of file.plan.statements) {
        const { line, column } = statement.span
        for (const finding of statement.verdict.findings) {
          const properties = [
            `file=${escapeProperty(file.path)}`,
            `line=${line}`,
            `col=${column}`,
            `title=${escapeProperty(`${finding.rule} (${finding.tier === 'safe' ? 'hazard' : finding.tier})`)}`,
          ].join(',')
          let message = `${finding.message}\nhint: ${finding.hint}`
          const error = statement.parseError
          if (error !== undefined) message += `\nparse error: ${error.message} (${error.line}:${error.column})`
          write(`::${command(finding)} ${properties}::${escapeData(message)}\n`)
        }
      }
    },
    end(summary) {
      write(summaryLine(summary))
    },
  }
}
