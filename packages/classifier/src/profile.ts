/**
 * Profiles: what a hosting platform adds to plain Postgres. `supabase` knows the read-only helpers
 * Supabase installs (`auth.uid()`, ...) and turns on the lints Supabase's own linter (splinter) runs
 * where they can be decided from the SQL alone. A profile comes from configuration or the connection,
 * never from SQL text.
 */

/** A platform profile. */
export type Profile = 'supabase'

/** Every profile, for validating configuration and flags. */
export const PROFILES: readonly Profile[] = ['supabase']

/**
 * Functions Supabase installs that only read the request (JWT claims) or a path string: calling one
 * changes nothing. Schema-qualified, lower case.
 */
export const SUPABASE_KNOWN_FUNCTIONS: ReadonlySet<string> = new Set([
  'auth.uid',
  'auth.jwt',
  'auth.role',
  'auth.email',
  'storage.foldername',
  'storage.filename',
  'storage.extension',
])

/** Schemas PostgREST exposes on a default Supabase project (an unqualified name lands in `public`). */
export const SUPABASE_EXPOSED_SCHEMAS: ReadonlySet<string> = new Set(['public'])

/** The roles a Supabase API key maps to. */
export const SUPABASE_API_ROLES: ReadonlySet<string> = new Set(['anon', 'authenticated'])

/** What a profile sets in {@link ClassifyOptions}. */
export interface ProfileOptions {
  readonly profile: Profile
  readonly knownFunctions: ReadonlySet<string>
}

/**
 * The classify options a profile stands for; spread them into the options of `classify`.
 * Never throws.
 *
 * @example
 * const plan = classify(sql, { ...profileOptions('supabase'), policy })
 * if (plan.isErr()) throw plan.error
 */
export function profileOptions(profile: Profile): ProfileOptions {
  switch (profile) {
    case 'supabase':
      return { profile, knownFunctions: SUPABASE_KNOWN_FUNCTIONS }
  }
}

/** True when a connection host is Supabase's (`*.supabase.co`, `*.supabase.com`, the pooler included). */
export function isSupabaseHost(host: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, '')
  return /(^|\.)supabase\.(co|com)$/.test(h)
}

/** The schema of a possibly qualified name (`public` when unqualified). */
export function schemaOf(name: string): string {
  const dot = name.lastIndexOf('.')
  return dot === -1 ? 'public' : name.slice(0, dot).toLowerCase()
}
