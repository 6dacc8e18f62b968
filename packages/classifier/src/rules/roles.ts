import { unwrap } from '../walk.js'

/** Role names of a list of RoleSpec nodes (`CURRENT_USER` and friends by their keyword). */
export function roleNames(list: unknown): string {
  if (!Array.isArray(list)) return 'role'
  const names = list.map((r) => {
    const w = unwrap(r)
    const spec = (w?.[0] === 'RoleSpec' ? w[1] : r) as { rolename?: string; roletype?: string }
    return spec.rolename ?? String(spec.roletype ?? 'role').replace(/^ROLESPEC_/, '')
  })
  return names.join(', ') || 'role'
}
