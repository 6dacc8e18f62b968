import type { ClassifiedStatement } from '@ddl/classifier'
import type pg from 'pg'
import { safeCause } from './connection.js'
import { displayStatement } from './display.js'
import { ConnectionError, PostgresError, type PostgresPhase } from './errors.js'
import { redactServerText, scrub } from './redact.js'
import type { Row } from './results.js'
import { lineColumn } from './sql-input.js'

/**
 * Sends one statement, byte for byte, over the extended query protocol (Parse/Bind/Execute), with
 * `values` bound as parameters, never interpolated. node-postgres uses the simple protocol for a
 * query without values unless `queryMode: 'extended'` is set; with the extended protocol the server
 * itself refuses a string holding two statements ("cannot insert multiple commands into a prepared
 * statement", SQLSTATE 42601), so nothing the gate did not see can ride along.
 * Rejects with node-postgres's error; callers map it with {@link toRunError}.
 */
export function sendStatement(
  client: pg.ClientBase,
  text: string,
  values: readonly unknown[] = [],
): Promise<pg.QueryResult<Row>> {
  const query: pg.QueryConfig<unknown[]> & { readonly queryMode: 'extended' } = {
    text,
    values: [...values],
    queryMode: 'extended',
  }
  return client.query<Row, unknown[]>(query)
}

/** Where in a run an error happened, to word it and place it in the caller's SQL. */
export interface ErrorSite {
  readonly phase: PostgresPhase
  readonly statement?: ClassifiedStatement | undefined
  readonly index?: number | undefined
  /** Strings that must not appear (the connection string and its password). */
  readonly secrets: readonly string[]
  /** The lock_timeout in force, to quote it in the advice. */
  readonly lockTimeoutMs?: number | undefined
  /** What happened to the rest: rolled back, nothing committed; or a statement run alone. */
  readonly aftermath: 'rolled-back' | 'alone' | 'read-only' | 'none'
  /** Maps an error that is not the server's (socket closed) to a `ConnectionError`. */
  readonly connectionError: (error: unknown) => ConnectionError
}

/** True for an error the server sent (it has a SQLSTATE), as opposed to a socket or client error. */
export function isServerError(error: unknown): error is pg.DatabaseError {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { code?: unknown; severity?: unknown }
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string'
}

/**
 * A server error as a `PostgresError` (SQLSTATE, message, detail, hint, the line in the caller's SQL,
 * advice for lock and statement timeouts); any other error as a `ConnectionError`. No secret in it.
 */
export function toRunError(error: unknown, site: ErrorSite): PostgresError | ConnectionError {
  if (!isServerError(error) || /^(08|57P0[1-3])/.test(error.code ?? '')) {
    const lost = site.connectionError(error)
    if (site.phase !== 'statement' && site.phase !== 'query') return lost
    const at = site.statement !== undefined ? ` while running line ${site.statement.span.line}` : ''
    const raw = error instanceof Error ? scrub(error.message, site.secrets) : 'connection lost'
    const aftermath =
      site.aftermath === 'alone'
        ? 'The statement ran alone, outside a transaction: check whether it took effect.'
        : 'Nothing was committed.'
    return new ConnectionError(
      `The connection to Postgres at ${lost.target} was lost${at} (${raw}). ${aftermath} ` +
        'Check that the server is up, then run it again.',
      { project: lost.project, variable: lost.variable, target: lost.target, code: lost.code },
      { cause: safeCause(error, site.secrets) },
    )
  }
  const code = error.code ?? 'XX000'
  const serverMessage = redactServerText(error.message, site.secrets)
  let line: number | undefined
  let column: number | undefined
  const statement = site.statement
  if (statement !== undefined) {
    line = statement.span.line
    column = statement.span.column
    const position = Number.parseInt(error.position ?? '', 10)
    if (Number.isFinite(position) && position > 0) {
      const within = lineColumn(statement.text, position - 1)
      line = statement.span.line + within.line - 1
      column = within.line === 1 ? statement.span.column + within.column - 1 : within.column
    }
  }
  const advice = adviceFor(code, site, error.message)
  const where = line !== undefined ? ` at line ${line}, column ${column}` : site.phase === 'commit' ? ' at COMMIT' : ''
  const lines = [`Postgres error ${code}${where}: ${serverMessage}`]
  const shown = statement !== undefined ? displayStatement(statement.text) : undefined
  if (shown !== undefined) lines.push(`  ${shown}`)
  if (error.detail !== undefined) lines.push(`Detail: ${redactServerText(error.detail, site.secrets)}`)
  if (error.hint !== undefined) lines.push(`Hint: ${redactServerText(error.hint, site.secrets)}`)
  if (advice !== undefined) lines.push(advice)
  const aftermath = {
    'rolled-back': 'The transaction was rolled back; nothing was changed.',
    alone: 'This statement ran alone, outside a transaction.',
    'read-only': 'Nothing was changed (read-only transaction).',
    none: '',
  }[site.aftermath]
  if (aftermath !== '') lines.push(aftermath)
  if (site.aftermath === 'alone' && (statement?.kind === 'IndexStmt' || statement?.kind === 'ReindexStmt')) {
    lines.push(
      'A failed CONCURRENTLY build can leave an INVALID index behind. Find it with ' +
        'SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid; drop it with DROP INDEX CONCURRENTLY, then retry.',
    )
  }
  return new PostgresError(
    lines.join('\n'),
    {
      code,
      serverMessage,
      detail: error.detail === undefined ? undefined : redactServerText(error.detail, site.secrets),
      hint: error.hint === undefined ? undefined : redactServerText(error.hint, site.secrets),
      advice,
      phase: site.phase,
      line,
      column,
      statement: shown,
      statementIndex: site.index,
      schema: error.schema,
      table: error.table,
      constraint: error.constraint,
    },
    { cause: safeCause(error, site.secrets) },
  )
}

function adviceFor(code: string, site: ErrorSite, serverMessage: string): string | undefined {
  switch (code) {
    case '55P03': {
      const ms = site.lockTimeoutMs
      return (
        `Another session holds a lock this statement needs${ms !== undefined ? ` (lock_timeout is ${ms} ms)` : ''}. ` +
        "Find it with: SELECT pid, state, xact_start, left(query, 80) FROM pg_stat_activity WHERE state <> 'idle' " +
        'ORDER BY xact_start; retry when it has finished, or raise timeouts.lockTimeoutMs in ddl.config.json.'
      )
    }
    case '57014':
      // 57014 is also a cancel request (Ctrl-C, pg_cancel_backend): only a timeout gets the timeout advice.
      if (!/statement timeout/i.test(serverMessage))
        return 'The statement was cancelled on request (Ctrl-C, pg_cancel_backend).'
      return (
        'The statement ran longer than statement_timeout and was cancelled. Run the change in smaller batches, ' +
        'or raise timeouts.statementTimeoutMs in ddl.config.json.'
      )
    case '25006':
      return 'query() and ddl query only read; use execute() (ddl exec) to change data or schema.'
    case '40P01':
      return 'Another transaction deadlocked with this one and Postgres cancelled this one. Run it again.'
    case '40001':
      return 'A concurrent transaction conflicted with this one. Run it again.'
    default:
      return undefined
  }
}
