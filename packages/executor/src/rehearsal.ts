import type { ClassifiedStatement, Plan } from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import { displayStatement } from './display.js'
import {
  effectLines,
  effectsWithTiers,
  type MeasuredEffects,
  NO_EFFECTS,
  rehearsalWatch,
  truncatedNames,
} from './effect-check.js'
import { inTransaction, type RunContext, type RunError, runStatements, type StatementObserver } from './plan-runner.js'
import type { RehearsedStatement, StatementRun, TakenLock } from './results.js'
import type { Session } from './session.js'

/** What to rehearse with. */
export interface RehearsalSettings {
  /** The short `lock_timeout` of a rehearsal. */
  readonly lockTimeoutMs: number
  readonly statementTimeoutMs: number
}

const USER_RELATIONS = `
SELECT c.oid::text AS oid, c.relfilenode::text AS filenode, c.relkind::text AS kind,
       format('%I.%I', n.nspname, c.relname) AS name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'`

const OWN_LOCKS = `
SELECT relation::text AS oid, mode FROM pg_locks
WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted AND relation IS NOT NULL`

const DEPEND_OBJECTS = `
WITH objs AS (
  SELECT DISTINCT classid, objid, objsubid FROM pg_depend WHERE deptype <> 'p' AND classid <> 0
  UNION
  SELECT 'pg_namespace'::regclass::oid, oid, 0 FROM pg_namespace
  WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp_|toast_temp_)'
)
SELECT classid::text AS c, objid::text AS o, objsubid AS s, pg_describe_object(classid, objid, objsubid) AS description
FROM objs`

const DEPEND_ROWS = `
SELECT classid::text AS c, objid::text AS o, objsubid AS s,
       refclassid::text AS rc, refobjid::text AS ro, refobjsubid AS rs, deptype::text AS t
FROM pg_depend WHERE deptype <> 'p' AND classid <> 0`

const GONE_OBJECTS = `
SELECT (u.i - 1)::int AS i FROM unnest($1::oid[], $2::oid[], $3::int4[]) WITH ORDINALITY AS u(c, o, s, i)
WHERE pg_describe_object(u.c, u.o, u.s) IS NULL
   OR (u.c = 'pg_class'::regclass AND u.s <> 0 AND EXISTS (
         SELECT 1 FROM pg_attribute a WHERE a.attrelid = u.o AND a.attnum = u.s AND a.attisdropped))`

const RESOLVE_RELATIONS = `
SELECT DISTINCT c.oid::text AS oid FROM unnest($1::text[], $2::text[]) AS u(s, r)
JOIN pg_class c ON c.oid = to_regclass(CASE WHEN u.s IS NULL OR u.s = '' THEN quote_ident(u.r)
                                            ELSE quote_ident(u.s) || '.' || quote_ident(u.r) END)`

const FOREIGN_KEY_CLOSURE = `
WITH RECURSIVE t(oid) AS (
  SELECT unnest($1::oid[])
  UNION
  SELECT con.conrelid FROM pg_constraint con JOIN t ON con.confrelid = t.oid WHERE con.contype = 'f'
)
SELECT t.oid::text AS oid, t.oid::regclass::text AS name FROM t`

interface Relation {
  readonly oid: string
  readonly filenode: string
  readonly kind: string
  readonly name: string
}

interface DependObject {
  readonly c: string
  readonly o: string
  readonly s: number
  readonly description: string | null
}

interface DependRow {
  readonly c: string
  readonly o: string
  readonly s: number
  readonly rc: string
  readonly ro: string
  readonly rs: number
  readonly t: string
}

interface Probe {
  relations: Map<string, Relation>
  locks: Set<string>
  objects: DependObject[] | undefined
  rows: DependRow[] | undefined
  truncate: { oid: string; name: string; rows: number; named: boolean }[]
  /** Rows of the tables a DROP names, counted before it runs (after it they are gone). */
  dropRows: Map<string, number>
}

interface Extras {
  locks: TakenLock[]
  rewritten: string[]
  created: string[]
  dropped: string[]
  droppedRows: { relation: string; rows: number }[]
  truncated: { relation: string; rows: number }[]
  cascades: string[]
}

/** Folding dependency types: the dependent is part of what it references (index of a table, rule of a view). */
const PART_OF = new Set(['i', 'a', 'P', 'S', 'e', 'x'])

/** True when the statement asks for CASCADE anywhere (DROP, TRUNCATE, ALTER TABLE ... DROP, DROP OWNED). */
export function hasCascade(statement: ClassifiedStatement): boolean {
  try {
    return JSON.stringify(statement.ast ?? null).includes('"DROP_CASCADE"')
  } catch {
    return false
  }
}

function astOf(statement: ClassifiedStatement, kind: string): Record<string, unknown> | undefined {
  const node = statement.ast as unknown as Record<string, unknown> | undefined
  const inner = node?.[kind]
  return typeof inner === 'object' && inner !== null ? (inner as Record<string, unknown>) : undefined
}

/** The tables and materialized views a DROP names (schema as written, or null), for counting their rows. */
function dropTargets(statement: ClassifiedStatement): { schemas: (string | null)[]; names: string[] } {
  const stmt = astOf(statement, 'DropStmt')
  const schemas: (string | null)[] = []
  const names: string[] = []
  if (stmt?.removeType !== 'OBJECT_TABLE' && stmt?.removeType !== 'OBJECT_MATVIEW') return { schemas, names }
  for (const object of Array.isArray(stmt.objects) ? (stmt.objects as unknown[]) : []) {
    const items = (object as { List?: { items?: unknown[] } }).List?.items ?? []
    const parts = items.map((i) => (i as { String?: { sval?: string } }).String?.sval ?? '')
    const name = parts.at(-1)
    if (name === undefined || name === '') continue
    schemas.push(parts.length > 1 ? (parts.at(-2) ?? null) : null)
    names.push(name)
  }
  return { schemas, names }
}

function truncateTargets(statement: ClassifiedStatement): { schemas: (string | null)[]; names: string[] } {
  const stmt = astOf(statement, 'TruncateStmt')
  const schemas: (string | null)[] = []
  const names: string[] = []
  const relations = Array.isArray(stmt?.relations) ? (stmt.relations as unknown[]) : []
  for (const item of relations) {
    const range = (item as { RangeVar?: { schemaname?: unknown; relname?: unknown } }).RangeVar ?? item
    const r = range as { schemaname?: unknown; relname?: unknown }
    if (typeof r.relname !== 'string') continue
    schemas.push(typeof r.schemaname === 'string' ? r.schemaname : null)
    names.push(r.relname)
  }
  return { schemas, names }
}

async function rows<R>(session: Session, text: string, values: unknown[] = []): Promise<R[]> {
  const result = await session.client.query({ text, values })
  return result.rows as R[]
}

/**
 * Measures each statement of a rehearsal: relation locks it took (`pg_locks` of this backend),
 * storage it rewrote (relfilenode changed), relations it created or dropped, rows TRUNCATE removes,
 * and for CASCADE the objects that go with the named ones (`pg_depend`, before and after).
 */
class RehearsalProbe implements StatementObserver {
  readonly extras = new Map<number, Extras>()
  #probe: Probe | undefined
  #existing: Set<string> | undefined

  async before(session: Session, statement: ClassifiedStatement): Promise<void> {
    const relations = new Map((await rows<Relation>(session, USER_RELATIONS)).map((r) => [r.oid, r]))
    if (this.#existing === undefined) this.#existing = new Set(relations.keys())
    const locks = new Set(
      (await rows<{ oid: string; mode: string }>(session, OWN_LOCKS)).map((l) => `${l.oid}|${l.mode}`),
    )
    let objects: DependObject[] | undefined
    let depends: DependRow[] | undefined
    if (hasCascade(statement)) {
      objects = await rows<DependObject>(session, DEPEND_OBJECTS)
      depends = await rows<DependRow>(session, DEPEND_ROWS)
    }
    const truncate: Probe['truncate'] = []
    if (statement.kind === 'TruncateStmt') {
      const { schemas, names } = truncateTargets(statement)
      const targets = (await rows<{ oid: string }>(session, RESOLVE_RELATIONS, [schemas, names])).map((r) => r.oid)
      const closure = hasCascade(statement)
        ? await rows<{ oid: string; name: string }>(session, FOREIGN_KEY_CLOSURE, [targets])
        : targets.map((oid) => ({ oid, name: relations.get(oid)?.name ?? oid }))
      for (const table of closure) {
        const relation = relations.get(table.oid)
        if (relation === undefined || (relation.kind !== 'r' && relation.kind !== 'p')) continue
        const counted = await rows<{ n: string }>(session, `SELECT count(*)::text AS n FROM ${relation.name}`)
        truncate.push({
          oid: table.oid,
          name: relation.name,
          rows: Number(counted[0]?.n ?? 0),
          named: targets.includes(table.oid),
        })
      }
    }
    const dropRows = new Map<string, number>()
    if (statement.kind === 'DropStmt') {
      const { schemas, names } = dropTargets(statement)
      if (names.length > 0) {
        for (const { oid } of await rows<{ oid: string }>(session, RESOLVE_RELATIONS, [schemas, names])) {
          const relation = relations.get(oid)
          if (relation === undefined || !['r', 'p', 'm'].includes(relation.kind)) continue
          const counted = await rows<{ n: string }>(session, `SELECT count(*)::text AS n FROM ${relation.name}`)
          dropRows.set(oid, Number(counted[0]?.n ?? 0))
        }
      }
    }
    this.#probe = { relations, locks, objects, rows: depends, truncate, dropRows }
  }

  async after(session: Session, _statement: ClassifiedStatement, index: number, _run: StatementRun): Promise<void> {
    const probe = this.#probe
    if (probe === undefined) return
    const after = new Map((await rows<Relation>(session, USER_RELATIONS)).map((r) => [r.oid, r]))
    const nameOf = (oid: string) => after.get(oid)?.name ?? probe.relations.get(oid)?.name
    const existing = this.#existing ?? new Set<string>()
    const locks: TakenLock[] = []
    for (const lock of await rows<{ oid: string; mode: string }>(session, OWN_LOCKS)) {
      if (probe.locks.has(`${lock.oid}|${lock.mode}`) || !existing.has(lock.oid)) continue
      const relation = nameOf(lock.oid)
      if (relation !== undefined) locks.push({ relation, mode: lock.mode })
    }
    const rewritten: string[] = []
    const dropped: string[] = []
    for (const [oid, before] of probe.relations) {
      const now = after.get(oid)
      if (now === undefined) {
        if (before.kind !== 't') dropped.push(before.name)
      } else if (before.filenode !== '0' && now.filenode !== '0' && before.filenode !== now.filenode) {
        rewritten.push(now.name)
      }
    }
    let created = [...after.values()].filter((r) => !probe.relations.has(r.oid) && r.kind !== 't').map((r) => r.name)
    // A relation dropped and created again under the same name by one statement was rebuilt
    // (ALTER COLUMN TYPE rebuilds the table's indexes as new relations).
    const rebuilt = dropped.filter((name) => created.includes(name))
    rewritten.push(...rebuilt)
    created = created.filter((name) => !rebuilt.includes(name))
    const droppedOnly = dropped.filter((name) => !rebuilt.includes(name))
    const droppedRows: { relation: string; rows: number }[] = []
    for (const [oid, count] of probe.dropRows) {
      const name = probe.relations.get(oid)?.name
      if (name !== undefined && !after.has(oid)) droppedRows.push({ relation: name, rows: count })
    }
    let cascades: string[] = []
    if (probe.objects !== undefined && probe.rows !== undefined) {
      const objects = probe.objects
      const gone = await rows<{ i: number }>(session, GONE_OBJECTS, [
        objects.map((o) => o.c),
        objects.map((o) => o.o),
        objects.map((o) => o.s),
      ])
      cascades = cascadedObjects(
        objects,
        probe.rows,
        gone.map((g) => g.i),
      )
    }
    const truncated = probe.truncate.map((t) => ({ relation: t.name, rows: t.rows }))
    for (const t of probe.truncate) {
      if (!t.named) cascades.push(`table ${t.name} (${t.rows} rows, truncated by CASCADE)`)
    }
    this.extras.set(index, {
      locks: sortLocks(locks),
      rewritten: rewritten.sort(),
      created: created.sort(),
      dropped: droppedOnly.sort(),
      droppedRows,
      truncated,
      cascades,
    })
    this.#probe = undefined
  }
}

const LOCK_STRENGTH = [
  'AccessExclusiveLock',
  'ExclusiveLock',
  'ShareRowExclusiveLock',
  'ShareLock',
  'ShareUpdateExclusiveLock',
  'RowExclusiveLock',
  'RowShareLock',
  'AccessShareLock',
]

function sortLocks(locks: TakenLock[]): TakenLock[] {
  const rank = (mode: string) => {
    const i = LOCK_STRENGTH.indexOf(mode)
    return i === -1 ? LOCK_STRENGTH.length : i
  }
  return locks.sort((a, b) => rank(a.mode) - rank(b.mode) || a.relation.localeCompare(b.relation))
}

/**
 * From the objects that disappeared, the ones that went only because of CASCADE: objects are folded
 * into what they are part of (an index into its table, a view's rule into the view, a column into
 * its dropped table); a resulting unit that has a normal dependency on another vanished unit is a
 * cascaded dependent, the rest are what the statement named. Exported for tests. Never throws.
 */
export function cascadedObjects(
  objects: readonly DependObject[],
  depends: readonly DependRow[],
  goneIndexes: readonly number[],
): string[] {
  const key = (c: string, o: string, s: number) => `${c}:${o}:${s}`
  const gone = new Map<string, DependObject>()
  for (const i of goneIndexes) {
    const object = objects[i]
    if (object !== undefined) gone.set(key(object.c, object.o, object.s), object)
  }
  if (gone.size === 0) return []
  const goneRef = (c: string, o: string, s: number): string | undefined => {
    const whole = key(c, o, 0)
    if (gone.has(whole)) return whole
    const part = key(c, o, s)
    return gone.has(part) ? part : undefined
  }
  const bySource = new Map<string, DependRow[]>()
  for (const row of depends) {
    const k = key(row.c, row.o, row.s)
    const list = bySource.get(k)
    if (list === undefined) bySource.set(k, [row])
    else list.push(row)
  }
  const parent = (k: string): string | undefined => {
    const [c = '', o = '', s = '0'] = k.split(':')
    if (s !== '0' && gone.has(key(c, o, 0))) return key(c, o, 0)
    for (const row of bySource.get(k) ?? []) {
      if (!PART_OF.has(row.t)) continue
      const ref = goneRef(row.rc, row.ro, row.rs)
      if (ref !== undefined && ref !== k) return ref
    }
    return undefined
  }
  const rootCache = new Map<string, string>()
  const root = (k: string): string => {
    const cached = rootCache.get(k)
    if (cached !== undefined) return cached
    let current = k
    const seen = new Set<string>([k])
    for (;;) {
      const next = parent(current)
      if (next === undefined || seen.has(next)) break
      seen.add(next)
      current = next
    }
    rootCache.set(k, current)
    return current
  }
  const dependentRoots = new Set<string>()
  for (const k of gone.keys()) {
    const mine = root(k)
    for (const row of bySource.get(k) ?? []) {
      if (row.t !== 'n') continue
      const ref = goneRef(row.rc, row.ro, row.rs)
      if (ref === undefined) continue
      if (root(ref) !== mine) dependentRoots.add(mine)
    }
  }
  return [...dependentRoots]
    .map((k) => gone.get(k)?.description ?? k)
    .filter((d): d is string => d !== null)
    .sort()
}

/**
 * Rehearses a gated plan on one session: every statement that can run in a transaction runs in one,
 * under a short `lock_timeout`, measured by the probe; then the transaction is ALWAYS rolled back.
 * A statement that cannot run in a transaction (CREATE INDEX CONCURRENTLY) is not sent: it could not
 * be undone. Never throws.
 */
export async function rehearsePlan(
  session: Session,
  plan: Plan,
  context: RunContext,
  settings: RehearsalSettings,
  onEffects?: (effects: MeasuredEffects) => void,
): Promise<Result<RehearsedStatement[], RunError>> {
  const probe = new RehearsalProbe()
  // The rollback undoes the data, not all session state (PREPARE, session advisory locks, WITH HOLD
  // cursors survive it): reset the connection before it goes back to the pool.
  session.dirty = true
  const ran = await inTransaction<StatementRun[], RunError>(
    session,
    { lockTimeoutMs: settings.lockTimeoutMs, statementTimeoutMs: settings.statementTimeoutMs },
    context,
    async () => {
      const runs: StatementRun[] = []
      for (const [index, statement] of plan.statements.entries()) {
        if (!statement.verdict.transactional) continue
        const one = await runStatements(session, [statement], context, {
          aftermath: 'rolled-back',
          lockTimeoutMs: settings.lockTimeoutMs,
          observer: probe,
          offset: index,
        })
        if (one.isErr()) return err(one.error)
        runs.push(...one.value)
      }
      return ok(runs)
    },
    'rollback',
    onEffects === undefined ? undefined : rehearsalWatch(onEffects),
  )
  if (ran.isErr()) return err(ran.error)
  const byIndex = new Map(ran.value.map((r) => [r.index, r]))
  return ok(
    plan.statements.map((statement, index): RehearsedStatement => {
      const run = byIndex.get(index)
      const extras = probe.extras.get(index)
      if (run === undefined || extras === undefined) {
        return {
          index,
          line: statement.span.line,
          statement: displayStatement(statement.text),
          kind: statement.kind,
          tier: statement.verdict.tier,
          findings: statement.verdict.findings,
          command: null,
          rowCount: null,
          rows: [],
          durationMs: 0,
          rehearsed: false,
          locks: [],
          rewritten: [],
          created: [],
          dropped: [],
          droppedRows: [],
          truncated: [],
          cascades: [],
          note: 'Not rehearsed: it cannot run inside a transaction, so it could not be rolled back.',
        }
      }
      return { ...run, rehearsed: true, ...extras, note: undefined }
    }),
  )
}

const TIER_NAME = { safe: 'SAFE', cautious: 'CAUTIOUS', destructive: 'DESTRUCTIVE' } as const
const TIER_RANK = { safe: 0, cautious: 1, destructive: 2 } as const

/**
 * What a rehearsal's rollback does not undo, one line each: sequences it advanced (serial and
 * identity defaults included), statements that may act outside the transaction (dblink, signals,
 * server files: `verdict.rollbackSafe === false`). Never throws.
 */
export function notUndoneBy(plan: Plan, statements: readonly RehearsedStatement[], effects: MeasuredEffects): string[] {
  const lines: string[] = []
  for (const s of effects.sequences) {
    lines.push(
      `sequence ${s.sequence} advanced from ${s.from ?? 'unused'} to ${s.to ?? 'unused'} (a rollback does not move a sequence back)`,
    )
  }
  for (const [index, statement] of plan.statements.entries()) {
    if (statement.verdict.rollbackSafe) continue
    if (statements[index]?.rehearsed !== true) continue
    lines.push(
      `line ${statement.span.line}: ${displayStatement(statement.text, 60)} may act outside the transaction ` +
        '(another connection, a signal, a file): the rollback does not undo that',
    )
  }
  for (const g of effects.guards) {
    lines.push(
      `${g.setting} was changed inside the rehearsal (${g.expected} to ${g.actual}): its waits were not bounded`,
    )
  }
  return lines
}

/**
 * The report of a rehearsal for people: per statement the rows, locks, rewrites, drops and cascades,
 * then the classification and the flag a real run needs. Never throws.
 */
export function rehearsalMessage(
  plan: Plan,
  statements: readonly RehearsedStatement[],
  style: 'api' | 'cli',
  effects: MeasuredEffects = NO_EFFECTS,
  notUndone: readonly string[] = [],
): string {
  const lines =
    notUndone.length === 0
      ? ['[REHEARSAL] Ran in a transaction and rolled it back: nothing was changed.']
      : [
          '[REHEARSAL] Ran in a transaction and rolled it back, but the rollback does not undo everything:',
          ...notUndone.map((l) => `  ${l}`),
        ]
  for (const s of statements) {
    lines.push(`line ${s.line}: ${s.statement}`)
    if (!s.rehearsed) {
      lines.push(`  ${s.note ?? 'Not rehearsed.'}`)
      continue
    }
    const facts: string[] = []
    if (s.rowCount !== null && s.kind !== 'TruncateStmt') facts.push(`${s.command ?? 'rows'}: ${s.rowCount} rows`)
    for (const t of s.truncated) facts.push(`empties ${t.relation} (${t.rows} rows)`)
    if (s.dropped.length > 0) facts.push(`drops ${s.dropped.join(', ')}`)
    for (const d of s.droppedRows) facts.push(`loses ${d.relation} with its ${d.rows} rows`)
    if (s.cascades.length > 0) facts.push(`CASCADE also takes: ${s.cascades.join('; ')}`)
    if (s.rewritten.length > 0) facts.push(`rewrites ${s.rewritten.join(', ')}`)
    if (s.locks.length > 0) facts.push(`locks ${s.locks.map((l) => `${l.relation} ${l.mode}`).join(', ')}`)
    if (s.created.length > 0) facts.push(`creates ${s.created.join(', ')}`)
    for (const fact of facts) lines.push(`  ${fact}`)
  }
  const measured = effectLines(effects)
  if (measured.length > 0) {
    lines.push('Measured by the server (every table, triggers and cascades included):')
    for (const line of measured) lines.push(`  ${line}`)
  }
  for (const s of plan.statements) {
    if (s.kind === 'NotifyStmt' || /pg_notify/i.test(s.text)) {
      lines.push(`line ${s.span.line}: NOTIFY is delivered only at COMMIT: the rehearsal sent none; a real run will.`)
    }
  }
  lines.push(`Classification: ${TIER_NAME[plan.tier]}`)
  const hidden = effectsWithTiers(effects, truncatedNames(plan)).filter((e) => TIER_RANK[e.tier] > TIER_RANK[plan.tier])
  if (hidden.length > 0) {
    const needs = hidden.some((e) => e.tier === 'destructive') ? 'DESTRUCTIVE' : 'CAUTIOUS'
    lines.push(
      `The measured effects disagree with the classification: they are ${needs} (${hidden
        .map((e) => `${e.effect}: ${e.detail}`)
        .join('; ')}). A real run without the flag they need is rolled back by the effect check.`,
    )
  }
  if (plan.requires !== 'none') {
    const flag =
      plan.requires === 'confirm'
        ? style === 'api'
          ? 'confirm: true'
          : '--confirm'
        : style === 'api'
          ? 'iKnowWhatImDoing: true'
          : '--i-know-what-im-doing'
    lines.push(`To run it for real: ${flag}`)
  }
  return lines.join('\n')
}
