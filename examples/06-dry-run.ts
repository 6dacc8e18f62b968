/**
 * Pattern 6: dry run.
 *
 * `dryRun: true` classifies the SQL and says what would happen; nothing is sent, and no database is
 * needed. `wouldRun` says whether the flags given would let it run.
 */
import { type PostgresAPI, unwrap } from '@ddl/executor'

export async function dryRun(db: PostgresAPI, log: (line: string) => void = console.log): Promise<void> {
  const result = await unwrap(db.execute('CREATE TABLE test (id int)', { dryRun: true }))
  log(result.message)
  // [DRY RUN] Would execute: CREATE TABLE test (id int)
  // Classification: SAFE
  // No changes made

  const drop = await unwrap(db.execute('DROP TABLE users', { dryRun: true }))
  log(`${drop.tier}: requires ${drop.requires}, would run: ${drop.wouldRun}`)
  // destructive: requires iKnowWhatImDoing, would run: false
}
