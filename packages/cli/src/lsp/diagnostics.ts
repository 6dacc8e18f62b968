import type { Finding as ClassifierFinding, Plan, Tier } from '@ddl/classifier'
import {
  type CodeAction,
  CodeActionKind,
  type Diagnostic,
  DiagnosticSeverity,
  type Range,
} from 'vscode-languageserver/node'
import type { TextDocument } from 'vscode-languageserver-textdocument'

/**
 * Where the rule pages are read: the repository's `docs/rules/`, as the GitHub Action links them
 * (integrations/github-action/run.mjs). `<base><rule>.md` is the page of a rule.
 */
export const RULES_URL = 'https://github.com/safe-ddl/safe-ddl/blob/main/docs/rules/'

/** The `source` of every diagnostic the server publishes. */
export const SOURCE = 'safe-ddl'

/** The placeholder the ignore quick fix leaves for the person to replace with the real reason. */
export const REASON_PLACEHOLDER = '<reason>'

/** A published finding, kept for the code actions. */
export interface Finding {
  readonly rule: string
  /** The finding's tier: `safe` for a lint hazard (the only kind an inline ignore may name). */
  readonly tier: Tier
  readonly diagnostic: Diagnostic
}

/** destructive → Error, cautious → Warning; a hazard (tier `safe`) by its own severity. */
export function severityOf(finding: ClassifierFinding): DiagnosticSeverity {
  if (finding.tier === 'destructive') return DiagnosticSeverity.Error
  if (finding.tier === 'cautious') return DiagnosticSeverity.Warning
  switch (finding.severity) {
    case 'error':
      return DiagnosticSeverity.Error
    case 'warning':
      return DiagnosticSeverity.Warning
    case 'info':
      return DiagnosticSeverity.Information
  }
}

/** The page of a rule. */
export function ruleUrl(rule: string): string {
  return `${RULES_URL}${encodeURIComponent(rule)}.md`
}

/**
 * One diagnostic per finding of `plan` (the classification of `document`'s text), over the whole
 * statement. The message is the finding's, then `Hint: ...` on a line of its own (and the parse
 * error, for a statement the grammar rejected), as `ddl check --format sarif` writes them.
 */
export function diagnosticsFor(
  plan: Plan,
  document: TextDocument,
): { readonly diagnostics: Diagnostic[]; readonly findings: Finding[] } {
  const diagnostics: Diagnostic[] = []
  const findings: Finding[] = []
  for (const statement of plan.statements) {
    const { span } = statement
    // The classifier's offsets count UTF-16 code units, as LSP positions do by default; the start is
    // span.line and span.column (1-based), made 0-based.
    const range: Range = {
      start: document.positionAt(span.offset),
      end: document.positionAt(span.offset + span.length),
    }
    for (const finding of statement.verdict.findings) {
      let message = `${finding.message}\nHint: ${finding.hint}`
      const error = statement.parseError
      if (error !== undefined) message += `\nParse error: ${error.message} (${error.line}:${error.column}).`
      const diagnostic: Diagnostic = {
        range,
        severity: severityOf(finding),
        code: finding.rule,
        codeDescription: { href: ruleUrl(finding.rule) },
        source: SOURCE,
        message,
      }
      diagnostics.push(diagnostic)
      findings.push({ rule: finding.rule, tier: finding.tier, diagnostic })
    }
  }
  return { diagnostics, findings }
}

/**
 * The quick fix for a hazard: `-- ddl:ignore <rule> <reason>` on a line of its own above the
 * statement, indented like the statement's line. The person replaces `<reason>`.
 */
export function ignoreAction(document: TextDocument, finding: Finding): CodeAction {
  const line = finding.diagnostic.range.start.line
  const text = document.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } })
  const indent = /^[ \t]*/.exec(text)?.[0] ?? ''
  const at = { line, character: 0 }
  const eol = document.getText().includes('\r\n') ? '\r\n' : '\n'
  return {
    title: `Ignore ${finding.rule} for this statement (-- ddl:ignore, then write the reason)`,
    kind: CodeActionKind.QuickFix,
    diagnostics: [finding.diagnostic],
    edit: {
      changes: {
        [document.uri]: [
          {
            range: { start: at, end: at },
            newText: `${indent}-- ddl:ignore ${finding.rule} ${REASON_PLACEHOLDER}${eol}`,
          },
        ],
      },
    },
  }
}
