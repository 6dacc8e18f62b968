import type { VacuumStmt } from '@pgsql/types'
import { defineRule } from '../rule.js'
import { rangeVarName, unwrap } from '../walk.js'
import { defElem, defElemTruthy } from './util.js'

/** VACUUM FULL rewrites each table under ACCESS EXCLUSIVE. */
export const vacuumFull = defineRule<VacuumStmt>({
  id: 'vacuum-full',
  tier: 'safe',
  severity: 'error',
  hazard: true,
  kinds: ['VacuumStmt'],
  check: (s) => {
    if (s.is_vacuumcmd !== true || !defElemTruthy(defElem(s.options, 'full'))) return undefined
    const names = (s.rels ?? []).map((r) => rangeVarName(unwrap(r)?.[1].relation))
    return names.length > 0 ? names : 'every table of the database'
  },
  message: (t) =>
    `VACUUM FULL rewrites ${t} into a new file under an ACCESS EXCLUSIVE lock: reads and writes wait until it ends, and the disk must hold a second copy meanwhile.`,
  hint: 'Use plain VACUUM, which runs beside reads and writes. To give space back to the operating system, use pg_repack or pg_squeeze (or REPACK CONCURRENTLY on Postgres 19), which hold the strong lock only briefly.',
})
