/**
 * Reads PL/pgSQL bodies (functions, procedures, DO blocks): every embedded statement and
 * expression is classified; EXECUTE of a constant string is parsed and classified; dynamic SQL
 * that cannot be read is reported.
 */
import { parsePlpgsqlRaw, parseRaw } from '../parser.js'
import type { AnyRule, RuleContext } from '../rule.js'
import { maxTier, type Tier } from '../tier.js'
import { unwrap, walk } from '../walk.js'

const DYNAMIC = new Set([
  'PLpgSQL_stmt_dynexecute',
  'PLpgSQL_stmt_dynfors',
  'PLpgSQL_stmt_open',
  'PLpgSQL_stmt_return_query',
])

/** The string constant an expression is, or undefined when it is anything else. */
export function constantString(expression: string): string | undefined {
  const parsed = parseRaw(`SELECT ${expression}`)
  if (!parsed.ok || parsed.tree.stmts?.length !== 1) return undefined
  const select = unwrap(parsed.tree.stmts[0]?.stmt)
  if (select?.[0] !== 'SelectStmt') return undefined
  const targets = select[1].targetList
  if (!Array.isArray(targets) || targets.length !== 1 || select[1].fromClause !== undefined) return undefined
  const res = unwrap(targets[0])
  const value = unwrap(res?.[1].val)
  if (value?.[0] !== 'A_Const') return undefined
  const sval = value[1].sval as { sval?: string } | undefined
  return sval === undefined ? undefined : (sval.sval ?? '')
}

function expressionSql(query: string, parseMode: unknown): string {
  const mode = typeof parseMode === 'number' ? parseMode : 0
  if (mode === 0) return query
  if (mode >= 3) {
    // Assignment: `target := expr` (or `=`): classify the expression.
    const at = query.indexOf(':=')
    const eq = query.indexOf('=')
    const cut = at >= 0 ? at + 2 : eq >= 0 ? eq + 1 : 0
    return `SELECT ${query.slice(cut)}`
  }
  return `SELECT ${query}`
}

/**
 * Classifies a PL/pgSQL function's statements. `createSql` is a CREATE FUNCTION statement.
 * Returns the tier of the body.
 */
export function classifyPlpgsql(
  createSql: string,
  where: string,
  nested: RuleContext['nested'],
  onDynamic: (detail: string) => void,
  onUnreadable: (detail: string) => void,
): Tier {
  const parsed = parsePlpgsqlRaw(createSql)
  if (!parsed.ok) {
    onUnreadable(`${where.replace(/^in /, '')} (${parsed.message})`)
    return 'destructive'
  }
  let tier: Tier = 'safe'
  walk(parsed.functions, (type, f) => {
    if (DYNAMIC.has(type)) {
      const exprNode = unwrap(type === 'PLpgSQL_stmt_open' ? f.dynquery : f.query)
      if (type === 'PLpgSQL_stmt_return_query' && f.dynquery === undefined) return undefined
      if (type === 'PLpgSQL_stmt_open' && f.dynquery === undefined) return undefined
      const query = exprNode?.[0] === 'PLpgSQL_expr' ? String(exprNode[1].query ?? '') : ''
      const constant = constantString(query)
      if (constant === undefined) {
        onDynamic(`${where}: EXECUTE ${query.length > 80 ? `${query.slice(0, 77)}...` : query}`)
        tier = 'destructive'
      } else {
        tier = maxTier(tier, nested(constant, `${where}, EXECUTE`))
      }
      // Parameters of USING and the rest of the node are still ordinary expressions.
      const params = f.params
      if (params !== undefined) walkExpressions(params)
      return false
    }
    if (type === 'PLpgSQL_expr') {
      const query = String(f.query ?? '')
      if (query.trim() !== '') tier = maxTier(tier, nested(expressionSql(query, f.parseMode), where))
      return false
    }
    return undefined
  })
  return tier

  function walkExpressions(node: unknown): void {
    walk(node, (type, f) => {
      if (type !== 'PLpgSQL_expr') return undefined
      tier = maxTier(tier, nested(expressionSql(String(f.query ?? ''), f.parseMode), where))
      return false
    })
  }
}

/** A dollar-quote tag that does not occur in `body`. */
export function freeDollarTag(body: string): string {
  let tag = '$ddl$'
  for (let i = 0; body.includes(tag); i++) tag = `$ddl${i}$`
  return tag
}

export type { AnyRule }
