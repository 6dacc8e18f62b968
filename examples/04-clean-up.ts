/**
 * Pattern 4: clean up, which needs a flag.
 *
 * TRUNCATE is `cautious`: it runs with `confirm: true`. DROP TABLE is `destructive`: it runs only with
 * `iKnowWhatImDoing: true`, and `confirm` is not enough. Without the flag, nothing is sent and the
 * call fails with a `SafetyError` that says what would be lost and what to pass.
 */
import { type PostgresAPI, SafetyError, unwrap } from '@ddl/executor'

/** Empties `test_data` and drops `old_backup`. Returns the first line of each refusal met on the way. */
export async function cleanUp(db: PostgresAPI): Promise<string[]> {
  const refusals: string[] = []
  const attempt = async (run: () => Promise<unknown>) => {
    try {
      await run()
    } catch (error) {
      if (!(error instanceof SafetyError)) throw error
      refusals.push(error.message.split('\n')[0] ?? '')
    }
  }

  await attempt(() => unwrap(db.execute('TRUNCATE test_data'))) // refused: cautious needs confirm
  await unwrap(db.execute('TRUNCATE test_data', { confirm: true }))

  await attempt(() => unwrap(db.execute('DROP TABLE old_backup', { confirm: true }))) // refused: destructive
  await unwrap(db.execute('DROP TABLE old_backup', { iKnowWhatImDoing: true }))
  return refusals
}
