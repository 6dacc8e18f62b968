import type { MergeStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { type Fields, rangeVarName, unwrap } from '../walk.js'
import { isUnfilteredSelf, narrows, whereTarget } from './where.js'

/** The WHEN clauses of a MERGE that overwrite or delete target rows, with their match kind and condition. */
function writingClauses(s: MergeStmt): Fields[] {
  const clauses = Array.isArray(s.mergeWhenClauses) ? s.mergeWhenClauses : []
  return clauses
    .map((c) => unwrap(c)?.[1])
    .filter((c): c is Fields => c !== undefined && (c.commandType === 'CMD_UPDATE' || c.commandType === 'CMD_DELETE'))
}

/**
 * Can this MERGE overwrite or delete every row of its target? When the join cannot narrow the target
 * (`ON true`, `ON 1 = 1`, `ON t.id = t.id`), when the source is the target itself unfiltered, or when
 * a NOT MATCHED BY SOURCE clause (every target row the source lacks) updates or deletes without a
 * narrowing condition of its own.
 */
export function mergeTouchesEveryRow(s: MergeStmt): boolean {
  const relation = s.relation as unknown as Fields | undefined
  const target = whereTarget(relation, [s.sourceRelation], s.withClause)
  const alone = whereTarget(relation, [])
  for (const clause of writingClauses(s)) {
    // A clause's own AND condition may narrow what it touches.
    if (clause.condition !== undefined && narrows(clause.condition, alone)) continue
    if (clause.matchKind === 'MERGE_WHEN_NOT_MATCHED_BY_SOURCE') return true
    if (clause.matchKind === 'MERGE_WHEN_MATCHED') {
      if (isUnfilteredSelf(s.sourceRelation, relation, s.withClause)) return true
      if (!narrows(s.joinCondition, { ...target, otherRelations: false })) return true
    }
  }
  return false
}

/** MERGE can update and delete the rows it matches; one that can reach every row is destructive. */
export const merge = defineRule<MergeStmt>({
  id: 'merge',
  tier: 'cautious',
  kinds: ['MergeStmt'],
  check: (s) => {
    const name = rangeVarName(s.relation)
    return [{ target: name, tier: mergeTouchesEveryRow(s) ? 'destructive' : 'cautious' }]
  },
  message: (t) => `MERGE INTO ${t} can overwrite or delete every row it matches.`,
  hint: 'Rehearse it first to see how many rows it changes, then run it with confirm; a join that cannot narrow the rows (ON true, the table merged with itself, WHEN NOT MATCHED BY SOURCE) needs iKnowWhatImDoing.',
})
