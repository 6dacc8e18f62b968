// A script's use of @ddl/executor: the README's first example, against DDL_DATABASE_URL.
// Run twice, it must pass twice.
import { type DryRunResult, PostgresAPI, SafetyError, unwrap } from '@ddl/executor'

const db = new PostgresAPI()
try {
  if (!(await unwrap(db.tableExists('users')))) {
    await unwrap(db.execute('CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL)'))
  }
  await unwrap(db.execute('ALTER TABLE users ADD COLUMN IF NOT EXISTS phone text'))
  await unwrap(db.execute('TRUNCATE users', { confirm: true }))
  try {
    await unwrap(db.execute('DROP TABLE users'))
    throw new Error('DROP TABLE users ran without iKnowWhatImDoing')
  } catch (error) {
    if (!(error instanceof SafetyError)) throw error
    console.log(error.message.split('\n')[0])
  }
  const plan: DryRunResult = await unwrap(db.execute('DROP TABLE users', { dryRun: true }))
  console.log(plan.tier, plan.requires, plan.wouldRun)
  for (const col of await unwrap(db.getSchema('users'))) console.log(`${col.name}: ${col.type}`)
} finally {
  await db.close()
}
