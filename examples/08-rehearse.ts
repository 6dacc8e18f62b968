/**
 * Rehearsal: run a change for real, measure it, roll it back.
 *
 * `rehearse: true` runs the script in a transaction that always rolls back, and reports per
 * statement the rows it touched, the locks it took (read from `pg_locks`), the tables it rewrote and
 * what a CASCADE would take with it. It needs no flag, since nothing is kept; `requires` says which
 * flag the real run will need.
 */
import { type PostgresAPI, type RehearsalResult, unwrap } from '@ddl/executor'

const CHANGE = `DELETE FROM users WHERE created_at < '2026-01-01';
ALTER TABLE users ALTER COLUMN email TYPE varchar(320)`

export async function rehearseChange(
  db: PostgresAPI,
  log: (line: string) => void = console.log,
): Promise<RehearsalResult> {
  const rehearsal = await unwrap(db.execute(CHANGE, { rehearse: true }))
  for (const { line, command, rowCount, locks, rewritten } of rehearsal.statements) {
    log(`line ${line}: ${command}${rowCount === null ? '' : `, ${rowCount} rows`}`)
    log(`  locks ${locks.map((lock) => `${lock.relation} ${lock.mode}`).join(', ')}`)
    if (rewritten.length > 0) log(`  rewrites ${rewritten.join(', ')}`)
  }
  log(`the real run needs: ${rehearsal.requires}`)
  return rehearsal
}
