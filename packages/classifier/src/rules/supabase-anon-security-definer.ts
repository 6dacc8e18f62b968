import { defineRule } from '../rule.js'

/**
 * Supabase profile (splinter `anon_security_definer_function_executable`): reported at the end of a
 * run, on its CREATE FUNCTION, for a SECURITY DEFINER function in an exposed schema that anon can
 * still execute (no REVOKE EXECUTE from both anon and public).
 */
export const supabaseAnonSecurityDefiner = defineRule<Record<string, never>>({
  id: 'supabase-anon-security-definer',
  tier: 'safe',
  severity: 'warning',
  hazard: true,
  kinds: [],
  check: () => undefined,
  message: (t) =>
    `SECURITY DEFINER function ${t} is in an exposed schema and anon can execute it (no REVOKE EXECUTE from anon and public): anyone with the anon key can call it through /rest/v1/rpc with its owner's privileges, past every RLS policy.`,
  hint: (t) =>
    `Run REVOKE EXECUTE ON FUNCTION ${t} FROM public, anon; then GRANT EXECUTE to the roles that need it. Or make it SECURITY INVOKER, or move it to a schema the API does not expose.`,
})
