/**
 * Does a WHERE clause narrow the rows of the target table? A WHERE that cannot is no WHERE:
 * constants and tautologies (`true`, `1 = 1`, `NOT false`, `id = id`, `x OR true`) and a WHERE
 * that references no column of the target table.
 */
import { type Fields, unwrap, walk } from '../walk.js'

export interface WhereTarget {
  /** The table's name and alias as written (either may qualify a column). */
  readonly names: readonly string[]
  /** True when other relations are in scope (USING / FROM): an unqualified column may be theirs. */
  readonly otherRelations: boolean
}

function stripLocations(value: unknown): string {
  return JSON.stringify(value, (key, v) => (key === 'location' ? undefined : v))
}

/** True when `expr` refers to a column of the target (subqueries only count qualified references). */
export function referencesTarget(expr: unknown, target: WhereTarget): boolean {
  let found = false
  walk(expr, (type, f, ancestors) => {
    if (found) return false
    if (type === 'CurrentOfExpr') {
      found = true
      return false
    }
    if (type !== 'ColumnRef') return undefined
    const fields = Array.isArray(f.fields) ? f.fields : []
    const parts = fields.map((x) => {
      const w = unwrap(x)
      return w?.[0] === 'String' ? String(w[1].sval) : '*'
    })
    // Inside a subquery an unqualified name belongs to the subquery's own tables first.
    const inSubquery = ancestors.includes('SelectStmt')
    if (parts.length === 1) {
      if (!target.otherRelations && !inSubquery && parts[0] !== '*') found = true
    } else if (parts.length >= 2) {
      const qualifier = parts[parts.length - 2] as string
      if (target.names.includes(qualifier) && parts[parts.length - 1] !== '*') found = true
    }
    return false
  })
  return found
}

/** True when the WHERE can narrow the target's rows (fail closed: unsure means it cannot). */
export function narrows(expr: unknown, target: WhereTarget): boolean {
  const w = unwrap(expr)
  if (w === undefined) return false
  const [type, f] = w
  if (type === 'BoolExpr') {
    const args = Array.isArray(f.args) ? f.args : []
    if (f.boolop === 'AND_EXPR') return args.some((a) => narrows(a, target))
    if (f.boolop === 'OR_EXPR') return args.length > 0 && args.every((a) => narrows(a, target))
    if (f.boolop === 'NOT_EXPR') return args.length === 1 && narrows(args[0], target)
    return false
  }
  if (type === 'A_Expr') {
    const l = f.lexpr
    const r = f.rexpr
    // `id = id`, `x >= x`: the same column on both sides compares a row with itself.
    if (l !== undefined && r !== undefined && stripLocations(l) === stripLocations(r)) return false
  }
  if (type === 'CurrentOfExpr') return true
  return referencesTarget(expr, target)
}

export function whereTarget(relation: Fields | undefined, others: unknown): WhereTarget {
  const names: string[] = []
  if (relation !== undefined) {
    if (typeof relation.relname === 'string') names.push(relation.relname)
    const alias = relation.alias as { aliasname?: string } | undefined
    if (alias?.aliasname !== undefined) names.push(alias.aliasname)
  }
  return { names, otherRelations: Array.isArray(others) && others.length > 0 }
}
