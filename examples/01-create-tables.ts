/**
 * Pattern 1: create the tables of a new feature, once.
 *
 * CREATE TABLE and CREATE INDEX are `safe`: they need no flag. Each `execute` runs in its own
 * transaction under a lock timeout, and is recorded in the audit log before anything is sent.
 */
import { type PostgresAPI, unwrap } from '@ddl/executor'

/** Creates `campaigns` and its index unless the table exists. Returns true when it created them. */
export async function createCampaigns(db: PostgresAPI): Promise<boolean> {
  if (await unwrap(db.tableExists('campaigns'))) return false
  await unwrap(
    db.execute(`
      CREATE TABLE campaigns (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          name text NOT NULL,
          status text DEFAULT 'draft',
          created_at timestamptz DEFAULT now()
      )
  `),
  )
  await unwrap(db.execute('CREATE INDEX campaigns_status_idx ON campaigns(status)'))
  return true
}
