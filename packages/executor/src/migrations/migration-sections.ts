/**
 * Migration files that hold more than the migration: dbmate's and node-pg-migrate's up and down
 * sections in one file, and the postgres-migrations runner's markers (Supabase storage).
 */

/** A file format with sections or markers ddl reads. */
export type SectionDialect = 'dbmate' | 'node-pg-migrate' | 'postgres-migrations'

const DBMATE_UP = /^--\s*migrate:up\b(.*)$/gm
const DBMATE_DOWN = /^--\s*migrate:down\b(.*)$/gm
const NPM_UP = /^--\s*Up\s+Migration\b.*$/gim
const NPM_DOWN = /^--\s*Down\s+Migration\b.*$/gim
const PG_MIGRATIONS = /^--\s*postgres-migrations\s+(ignore|disable-transaction)\b/m

/** Which dialect a file's text is written in, from its markers; undefined for plain SQL. Never throws. */
export function detectDialect(text: string): SectionDialect | undefined {
  if (new RegExp(DBMATE_UP.source, 'm').test(text) || new RegExp(DBMATE_DOWN.source, 'm').test(text)) return 'dbmate'
  if (new RegExp(NPM_UP.source, 'im').test(text) || new RegExp(NPM_DOWN.source, 'im').test(text))
    return 'node-pg-migrate'
  if (PG_MIGRATIONS.test(text)) return 'postgres-migrations'
  return undefined
}

/** The part of a file that is the migration. */
export type SelectedPart =
  | {
      readonly ok: true
      /**
       * The file's text with everything outside the part blanked (spaces, newlines kept): lines and
       * offsets stay those of the file, and what is sent is only the part.
       */
      readonly sql: string
      /** The file's own marker says: run outside a transaction (dbmate `transaction:false`, `disable-transaction`). */
      readonly outsideTransaction: boolean
    }
  | { readonly ok: false; readonly line: number; readonly message: string }

interface Marker {
  readonly start: number
  readonly end: number
  readonly options: string
  readonly line: number
}

function markers(text: string, pattern: RegExp): Marker[] {
  const found: Marker[] = []
  for (const m of text.matchAll(new RegExp(pattern.source, pattern.flags))) {
    const start = m.index ?? 0
    found.push({ start, end: start + m[0].length, options: m[1] ?? '', line: lineAt(text, start) })
  }
  return found
}

function lineAt(text: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++
  return line
}

/** Blanks every character outside [from, to) except line breaks. */
function keepOnly(text: string, from: number, to: number): string {
  const blank = (s: string) => s.replace(/[^\r\n]/g, ' ')
  return blank(text.slice(0, from)) + text.slice(from, to) + blank(text.slice(to))
}

/**
 * The `part` (`up` or `down`) of a file in `dialect`. dbmate: the text after `-- migrate:up` up to
 * `-- migrate:down` (or the end), `transaction:false` on the marker line honoured; node-pg-migrate:
 * after `-- Up Migration` up to `-- Down Migration`; postgres-migrations: the whole file, outside a
 * transaction when it says `-- postgres-migrations disable-transaction`. Fails (never guesses) when
 * the markers are missing, repeated, out of order, or SQL stands before the first one. Never throws.
 *
 * @example
 * selectPart('-- migrate:up\nCREATE TABLE a ();\n-- migrate:down\nDROP TABLE a;\n', 'dbmate', 'up').sql
 * // '             \nCREATE TABLE a ();\n               \n              \n'
 */
export function selectPart(text: string, dialect: SectionDialect, part: 'up' | 'down'): SelectedPart {
  if (dialect === 'postgres-migrations') {
    if (part === 'down') return { ok: false, line: 1, message: 'postgres-migrations files have no down migration.' }
    return { ok: true, sql: text, outsideTransaction: /^--\s*postgres-migrations\s+disable-transaction\b/m.test(text) }
  }
  const [upPattern, downPattern, upName, downName] =
    dialect === 'dbmate'
      ? [DBMATE_UP, DBMATE_DOWN, '-- migrate:up', '-- migrate:down']
      : [NPM_UP, NPM_DOWN, '-- Up Migration', '-- Down Migration']
  const ups = markers(text, upPattern)
  const downs = markers(text, downPattern)
  const up = ups[0]
  if (up === undefined) return { ok: false, line: 1, message: `the file has no ${upName} line.` }
  if (ups.length > 1)
    return { ok: false, line: ups[1]?.line ?? 1, message: `the file has ${ups.length} ${upName} lines.` }
  if (downs.length > 1) {
    return { ok: false, line: downs[1]?.line ?? 1, message: `the file has ${downs.length} ${downName} lines.` }
  }
  const down = downs[0]
  if (down !== undefined && down.start < up.start) {
    return {
      ok: false,
      line: down.line,
      message: `${downName} comes before ${upName}; the sections cannot be told apart.`,
    }
  }
  const before = text.slice(0, up.start)
  const stray = before.split('\n').findIndex((l) => l.trim() !== '' && !l.trim().startsWith('--'))
  if (stray >= 0) {
    return {
      ok: false,
      line: stray + 1,
      message: `SQL stands before ${upName}: it belongs to neither section. Move it under ${upName}.`,
    }
  }
  if (part === 'up') {
    const to = down?.start ?? text.length
    return { ok: true, sql: keepOnly(text, up.end, to), outsideTransaction: transactionOff(dialect, up.options) }
  }
  if (down === undefined) return { ok: false, line: up.line, message: `the file has no ${downName} section.` }
  return {
    ok: true,
    sql: keepOnly(text, down.end, text.length),
    outsideTransaction: transactionOff(dialect, down.options),
  }
}

function transactionOff(dialect: SectionDialect, options: string): boolean {
  return dialect === 'dbmate' && /(^|\s)transaction:false(\s|$)/.test(options)
}
