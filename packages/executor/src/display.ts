import { redactSecrets } from '@ddl/audit'
import { redactSql } from '@ddl/classifier'

/** How long a statement shown in a message may be before it is cut. */
export const DISPLAY_LENGTH = 100

/**
 * A statement as shown to a person: password literals redacted (token-based, by the classifier),
 * connection URLs, bearer tokens and API keys redacted anywhere (comments too),
 * whitespace collapsed, cut to about {@link DISPLAY_LENGTH} characters. Never throws.
 *
 * @example
 * displayStatement("ALTER ROLE app\n  PASSWORD 'hunter2'") // "ALTER ROLE app PASSWORD '***'"
 */
export function displayStatement(text: string, length = DISPLAY_LENGTH): string {
  let redacted: string
  try {
    // Token-based first (literals after PASSWORD), then every textual form, comments included.
    redacted = redactSecrets(redactSql(text))
  } catch {
    redacted = '[statement hidden: it could not be redacted]'
  }
  const flat = redacted.replace(/\s+/g, ' ').trim()
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat
}
