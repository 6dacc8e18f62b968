/**
 * Does a WHERE clause (or a MERGE join) narrow the rows of the target table? A WHERE that cannot is
 * no WHERE. Tautologies in disguise count as none: constants (`true`, `1 = 1`, `NOT false`), a column
 * compared with itself however it is qualified (`id = id`, `t.id = id`, `t.id = t2.id` over a self-join),
 * membership of a column in itself (`id IN (id)`, `id = ANY (ARRAY[id])`, `id IN (SELECT id FROM t)`),
 * a self-subquery correlated on the same column (`EXISTS (SELECT 1 FROM t t2 WHERE t2.id = t.id)`),
 * system columns every row has (`ctid IS NOT NULL`), and a WHERE that references no column of the
 * target. Fail closed: unsure means it cannot narrow.
 */
import { type Fields, rangeVarName, unwrap, walk } from '../walk.js'

export interface WhereTarget {
  /** The table's name and alias as written (either may qualify a column). */
  readonly names: readonly string[]
  /** True when other relations are in scope (USING / FROM): an unqualified column may be theirs. */
  readonly otherRelations: boolean
  /** The table's own name (without schema), to recognise self-joins and self-subqueries. */
  readonly relname?: string | undefined
  /** Aliases of the same table joined in USING / FROM without a narrowing of their own. */
  readonly selfAliases?: readonly string[]
  /** The statement's WITH queries, by lower-case name: a CTE that is the whole table is the table. */
  readonly ctes?: ReadonlyMap<string, unknown> | undefined
}

/** The WITH queries of a statement, by lower-case name. */
export function ctesOf(withClause: unknown): ReadonlyMap<string, unknown> {
  const map = new Map<string, unknown>()
  const clause = (unwrap(withClause)?.[1] ?? withClause) as Fields | undefined
  for (const cte of Array.isArray(clause?.ctes) ? clause.ctes : []) {
    const w = unwrap(cte)
    if (w?.[0] === 'CommonTableExpr' && typeof w[1].ctename === 'string')
      map.set(w[1].ctename.toLowerCase(), w[1].ctequery)
  }
  return map
}

/** True when a WITH query named `name` reads the whole target table and nothing else. */
function cteIsWholeTable(name: string, target: WhereTarget): boolean {
  const query = unwrap(target.ctes?.get(name.toLowerCase()))
  if (query?.[0] !== 'SelectStmt') return false
  const plain: WhereTarget = { ...target, ctes: undefined }
  const alias = selfSource(query[1], plain)
  if (alias === undefined) return false
  const inner: WhereTarget = { names: [alias], otherRelations: false, relname: target.relname }
  return query[1].whereClause === undefined || !narrows(query[1].whereClause, inner)
}

/** Columns every row has a value in. */
const SYSTEM_COLUMNS: ReadonlySet<string> = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid'])

function columnParts(f: Fields): string[] {
  const fields = Array.isArray(f.fields) ? f.fields : []
  return fields.map((x) => {
    const w = unwrap(x)
    return w?.[0] === 'String' ? String(w[1].sval) : '*'
  })
}

/**
 * A canonical text of an expression: locations dropped, and column references qualified by the
 * target or one of its self-join aliases written bare, so `t.id`, `t2.id` and `id` compare equal.
 */
function canonical(value: unknown, target: WhereTarget): string {
  const qualifiers = new Set([...target.names, ...(target.selfAliases ?? [])])
  return JSON.stringify(value, (key, v) => {
    if (key === 'location') return undefined
    if (key === 'ColumnRef' && v !== null && typeof v === 'object') {
      const parts = columnParts(v as Fields)
      const qualifier = parts.length >= 2 ? (parts[parts.length - 2] as string) : undefined
      const bare = qualifier === undefined || qualifiers.has(qualifier) ? parts[parts.length - 1] : parts.join('.')
      return { column: bare }
    }
    return v
  })
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
    const parts = columnParts(f)
    // Inside a subquery an unqualified name belongs to the subquery's own tables first.
    const inSubquery = ancestors.includes('SelectStmt')
    if (parts.length === 1) {
      if (!target.otherRelations && !inSubquery && parts[0] !== '*') found = true
    } else if (parts.length >= 2) {
      const qualifier = parts[parts.length - 2] as string
      const own = target.names.includes(qualifier) || (target.selfAliases ?? []).includes(qualifier)
      if (own && parts[parts.length - 1] !== '*') found = true
    }
    return false
  })
  return found
}

/** The one relation a subquery reads, when it reads only the target table itself: its alias (or name). */
function selfSource(select: Fields, target: WhereTarget): string | undefined {
  if (target.relname === undefined) return undefined
  const from = Array.isArray(select.fromClause) ? select.fromClause : []
  if (from.length !== 1) return undefined
  const w = unwrap(from[0])
  if (w?.[0] !== 'RangeVar') return undefined
  const relname = String(w[1].relname).toLowerCase()
  const itself = relname === target.relname.toLowerCase()
  const viaCte = !itself && w[1].schemaname === undefined && cteIsWholeTable(relname, target)
  if (!itself && !viaCte) return undefined
  if (select.limitCount !== undefined || select.havingClause !== undefined || select.groupClause !== undefined) {
    return undefined
  }
  const alias = (w[1].alias as { aliasname?: string } | undefined)?.aliasname
  return alias ?? String(w[1].relname)
}

/** The expression of a one-column target list. */
function onlyTarget(select: Fields): unknown {
  const list = Array.isArray(select.targetList) ? select.targetList : []
  if (list.length !== 1) return undefined
  return unwrap(list[0])?.[1].val
}

/** A subquery over the target itself whose own WHERE cannot narrow it (correlations on the same column aside). */
function unnarrowedSelf(subselect: unknown, target: WhereTarget): { readonly inner: WhereTarget } | undefined {
  const w = unwrap(subselect)
  if (w?.[0] !== 'SelectStmt') return undefined
  const alias = selfSource(w[1], target)
  if (alias === undefined) return undefined
  const inner: WhereTarget = {
    names: [alias],
    otherRelations: false,
    relname: target.relname,
    selfAliases: [...target.names, ...(target.selfAliases ?? [])],
  }
  if (w[1].whereClause !== undefined && narrows(w[1].whereClause, inner)) return undefined
  return { inner }
}

/** A SubLink that every row of the target satisfies (see the module comment). */
function selfSubLink(f: Fields, target: WhereTarget): boolean {
  const kind = String(f.subLinkType ?? '')
  const self = unnarrowedSelf(f.subselect, target)
  if (self === undefined) return false
  if (kind === 'EXISTS_SUBLINK') return true
  if (kind === 'ANY_SUBLINK') {
    const select = unwrap(f.subselect)?.[1] as Fields
    const picked = onlyTarget(select)
    return picked !== undefined && canonical(picked, self.inner) === canonical(f.testexpr, target)
  }
  return false
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
    const left = l === undefined ? undefined : canonical(l, target)
    // `id = id`, `t.id = id`, `x >= x`: the same column on both sides compares a row with itself.
    if (left !== undefined && r !== undefined && left === canonical(r, target)) return false
    const kind = String(f.kind ?? '')
    // `id IN (id, 7)`, `id BETWEEN id AND id`: a list that holds the column itself.
    const list = Array.isArray(r) ? r : unwrap(r)?.[0] === 'List' ? (unwrap(r)?.[1].items as unknown[]) : undefined
    if (left !== undefined && Array.isArray(list)) {
      const same = list.map((x) => canonical(x, target) === left)
      if ((kind === 'AEXPR_IN' && same.some(Boolean)) || (kind.startsWith('AEXPR_BETWEEN') && same.every(Boolean))) {
        return false
      }
    }
    // `id = ANY (ARRAY[id, 7])`.
    const array = unwrap(r)
    if (left !== undefined && kind === 'AEXPR_OP_ANY' && array?.[0] === 'A_ArrayExpr') {
      const elements = Array.isArray(array[1].elements) ? array[1].elements : []
      if (elements.some((x) => canonical(x, target) === left)) return false
    }
  }
  if (type === 'NullTest' && f.nulltesttype === 'IS_NOT_NULL') {
    const column = unwrap(f.arg)
    if (column?.[0] === 'ColumnRef') {
      const parts = columnParts(column[1])
      if (SYSTEM_COLUMNS.has((parts[parts.length - 1] ?? '').toLowerCase())) return false
    }
  }
  if (type === 'SubLink' && selfSubLink(f, target)) return false
  // `(id = id) IS TRUE`, `(...) IS NOT FALSE`: as narrow as what they test.
  if (type === 'BooleanTest' && (f.booltesttype === 'IS_TRUE' || f.booltesttype === 'IS_NOT_FALSE')) {
    return narrows(f.arg, target)
  }
  if (type === 'CurrentOfExpr') return true
  return referencesTarget(expr, target)
}

/** The names a relation in USING / FROM goes by when it is the target table itself, unfiltered. */
function selfAliasesOf(relation: Fields | undefined, others: unknown, ctes?: ReadonlyMap<string, unknown>): string[] {
  const relname = typeof relation?.relname === 'string' ? relation.relname.toLowerCase() : undefined
  if (relname === undefined || !Array.isArray(others)) return []
  const aliases: string[] = []
  const whole = (name: string) =>
    ctes !== undefined && cteIsWholeTable(name, { names: [relname], otherRelations: false, relname, ctes })
  for (const other of others) {
    const w = unwrap(other)
    const name = w?.[0] === 'RangeVar' ? String(w[1].relname).toLowerCase() : undefined
    if (w?.[0] === 'RangeVar' && (name === relname || (w[1].schemaname === undefined && whole(name ?? '')))) {
      const alias = (w[1].alias as { aliasname?: string } | undefined)?.aliasname
      aliases.push(alias ?? String(w[1].relname))
    } else if (w?.[0] === 'RangeSubselect') {
      // `(SELECT * FROM t) t2`: the whole table again under another name.
      const select = unwrap(w[1].subquery)
      const alias = (w[1].alias as { aliasname?: string } | undefined)?.aliasname
      if (alias !== undefined && select?.[0] === 'SelectStmt' && select[1].whereClause === undefined) {
        const from = Array.isArray(select[1].fromClause) ? select[1].fromClause : []
        const inner = unwrap(from[0])
        if (from.length === 1 && inner?.[0] === 'RangeVar' && String(inner[1].relname).toLowerCase() === relname) {
          aliases.push(alias)
        }
      }
    }
  }
  return aliases
}

export function whereTarget(relation: Fields | undefined, others: unknown, withClause?: unknown): WhereTarget {
  const ctes = withClause === undefined ? undefined : ctesOf(withClause)
  const names: string[] = []
  if (relation !== undefined) {
    if (typeof relation.relname === 'string') names.push(relation.relname)
    const alias = relation.alias as { aliasname?: string } | undefined
    if (alias?.aliasname !== undefined) names.push(alias.aliasname)
  }
  return {
    names,
    otherRelations: Array.isArray(others) && others.length > 0,
    relname: typeof relation?.relname === 'string' ? relation.relname : undefined,
    selfAliases: selfAliasesOf(relation, others, ctes),
    ctes,
  }
}

/** True when a source relation (a MERGE's USING, an INSERT's SELECT) is the target table itself, unfiltered. */
export function isUnfilteredSelf(source: unknown, relation: Fields | undefined, withClause?: unknown): boolean {
  return selfAliasesOf(relation, [source], withClause === undefined ? undefined : ctesOf(withClause)).length > 0
}

/** The name of a relation for messages. */
export function relationName(relation: unknown): string {
  return rangeVarName(relation)
}
