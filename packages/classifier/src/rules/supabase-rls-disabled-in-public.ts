import { defineRule } from '../rule.js'

/** What the end of a run knows about the table. */
export interface LateTableFacts {
  /** Policies created on the table (they do nothing while RLS is off). */
  readonly policies?: readonly string[]
}

/**
 * Supabase profile (splinter `rls_disabled_in_public`, `policy_exists_rls_disabled`): reported at the
 * end of a run, on its CREATE TABLE, for a table in an exposed schema that never got row level security.
 */
export const supabaseRlsDisabledInPublic = defineRule<LateTableFacts>({
  id: 'supabase-rls-disabled-in-public',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: [],
  check: () => undefined,
  message: (t, facts) => {
    const policies = facts.policies ?? []
    const note =
      policies.length > 0 ? ` It has policies (${policies.join(', ')}), which do nothing until RLS is on.` : ''
    return `Table ${t} is in an exposed schema and row level security is never enabled on it: anyone with the anon key can read and write every row through the API.${note}`
  },
  hint: (t) =>
    `Run ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY in the same migration, then add policies for the rows each role may see; or create the table in a schema the API does not expose.`,
})
