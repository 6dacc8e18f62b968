import { randomBytes } from 'node:crypto'
import { type ClassifiedStatement, compareTiers, type Plan, type Tier } from '@ddl/classifier'
import { err, ok, type Result } from 'neverthrow'
import { SafetyError } from './errors.js'
import type { FlagStyle, GateFlags } from './gate.js'
import type { Session } from './session.js'

/**
 * The second wall: what the server says a transaction did, read inside it after the last statement
 * and before COMMIT, compared with the tier the caller's flags allow. The parser reads text; this
 * reads effects, so a trigger, rule, view or function that already exists, or a WHERE that only
 * looks narrowing, cannot hide what it did. See docs/executor.md ("The effect check").
 */

/** An effect the check can name. */
export type EffectKind =
  /** Rows of a pre-existing table deleted (cautious). */
  | 'delete'
  /** Rows of a pre-existing table updated (cautious). */
  | 'update'
  /** A table that had rows has none of them left: deleted, truncated, or replaced (destructive). */
  | 'empty'
  /** Every row of a table was updated: a column overwritten everywhere (destructive). */
  | 'update-every-row'
  /** A pre-existing table or materialized view is gone (destructive). */
  | 'drop'
  /** Large objects unlinked (`lo_unlink`): their data is gone (destructive). */
  | 'unlink-large-objects'
  /** A trigger disabled (or made to fire only in replica mode) in this transaction (cautious). */
  | 'disable-trigger'
  /** A rule disabled in this transaction (cautious). */
  | 'disable-rule'
  /** One of the executor's guard settings changed (cautious). */
  | 'lift-guard'

/** What the transaction did to one pre-existing table. */
export interface TableEffect {
  /** `schema.table`, quoted as SQL needs it. */
  readonly table: string
  readonly inserted: number
  readonly updated: number
  readonly deleted: number
  /** The table had rows at BEGIN and none of them is left (deleted, truncated, or replaced by new rows). */
  readonly emptied: boolean
  /** Every row it had was updated (and the table had at least two). */
  readonly everyRowUpdated: boolean
  readonly dropped: boolean
  /** Its storage was replaced (TRUNCATE, a rewriting ALTER TABLE, CLUSTER). */
  readonly rewritten: boolean
  /** Rows were removed by TRUNCATE (storage replaced and no row it had is left). */
  readonly truncated: boolean
  /** Estimated rows at BEGIN (`pg_class.reltuples`; -1 when never analysed). */
  readonly estimatedRows: number
}

/** A sequence that moved in the transaction (rehearsals only: a rollback does not undo it). */
export interface SequenceMove {
  readonly sequence: string
  readonly from: string | null
  readonly to: string | null
}

/** A guard setting the executor set at BEGIN, and what it was at the end. */
export interface GuardChange {
  readonly setting: string
  readonly expected: string
  readonly actual: string
}

/** A trigger or rule disabled in the transaction. */
export interface DisabledObject {
  readonly table: string
  readonly name: string
  /** `D` disabled, `R` fires only in replica mode. */
  readonly state: string
}

/** Everything the effect check read from the server about one transaction. */
export interface MeasuredEffects {
  /** Pre-existing tables the transaction touched, dropped or rewrote (the tool's own excluded). */
  readonly tables: readonly TableEffect[]
  readonly largeObjectsUnlinked: number
  readonly disabledTriggers: readonly DisabledObject[]
  readonly disabledRules: readonly DisabledObject[]
  readonly guards: readonly GuardChange[]
  /** Only measured by a rehearsal (empty otherwise). */
  readonly sequences: readonly SequenceMove[]
}

/**
 * An effect a project expects and allows on a named table (a counter table its triggers keep up to
 * date). Read from `policy.allowEffects`. This is a tier LOWERING: what it names no longer needs the
 * flag its effect would need, so like every lowering it must come from configuration a person
 * reviewed, never from text an agent writes.
 */
export interface AllowedEffect {
  /** `schema.table`, or a glob (`*` within a name part): `public.counters`, `stats.*`. */
  readonly table: string
  readonly effects: readonly AllowableEffect[]
}

/** Effects a policy may allow on a table. */
export type AllowableEffect =
  | 'delete'
  | 'update'
  | 'empty'
  | 'update-every-row'
  | 'drop'
  | 'disable-trigger'
  | 'disable-rule'

/** The effects a policy may name in `allowEffects`. */
export const ALLOWABLE_EFFECTS: readonly AllowableEffect[] = Object.freeze([
  'delete',
  'update',
  'empty',
  'update-every-row',
  'drop',
  'disable-trigger',
  'disable-rule',
])

/** What a run is held to. */
export interface EffectLimits {
  /** The tier the caller's flags allow (`safe` without flags). */
  readonly allowed: Tier
  /** At most this many rows deleted plus updated in all (undefined: no limit). */
  readonly maxRows?: number | undefined
  /** The effects a rehearsal measured: the run may not exceed them (an approved run). */
  readonly expected?: MeasuredEffects | undefined
  /** Effects the policy allows on named tables (a lowering; see {@link AllowedEffect}). */
  readonly allowEffects?: readonly AllowedEffect[] | undefined
  readonly style: FlagStyle
}

/** One effect beyond what the run was allowed. */
export interface EffectViolation {
  readonly effect: EffectKind
  /** The table (or setting) it concerns. */
  readonly table: string
  /** Counts and facts, for people. */
  readonly detail: string
  /** The tier the effect needs. */
  readonly tier: Tier
}

/** The tier a set of flags allows. Never throws. */
export function allowedTier(flags: GateFlags): Tier {
  if (flags.iKnowWhatImDoing === true) return 'destructive'
  if (flags.confirm === true) return 'cautious'
  return 'safe'
}

/** The settings the executor sets and the check expects unchanged at the end. */
const GUARDS = [
  'lock_timeout',
  'statement_timeout',
  'idle_in_transaction_session_timeout',
  'session_replication_role',
] as const

const GUARDS_SQL = `SELECT ${GUARDS.map((g, i) => `pg_catalog.current_setting('${g}') AS g${i}`).join(', ')}`

/**
 * The relations a baseline records: tables and materialized views outside Postgres's own schemas,
 * the tool's own objects excluded (`public.ddl_migrations`, `public.ddl_migration_claims`, schema
 * `ddl_undo`), plus `pg_largeobject_metadata` (one row per large object).
 */
function baselineSql(sequences: boolean): string {
  const kinds = sequences ? "('r', 'm', 'S')" : "('r', 'm')"
  const last = sequences
    ? ", pg_catalog.array_agg(CASE WHEN c.relkind = 'S' AND pg_catalog.has_sequence_privilege(c.oid, 'SELECT,USAGE') " +
      'THEN pg_catalog.pg_sequence_last_value(c.oid)::text END) AS q'
    : ''
  // One row of arrays: far cheaper to send and parse than a row per relation. `i,u,d` are the
  // backend's unflushed statistics (`pg_stat_xact_*` also counts this session's earlier transactions
  // until they are flushed; nothing is flushed inside a transaction, so the difference at the end
  // is this transaction's own).
  return (
    'SELECT pg_catalog.array_agg(c.oid::text) AS o, pg_catalog.array_agg(c.relfilenode::text) AS f, ' +
    'pg_catalog.array_agg(c.relkind::text) AS k, ' +
    // Whether the table had rows: the catalog's and the statistics' word when they say so, else the
    // size of its storage (a system call per table, so only when nothing cheaper answered).
    "pg_catalog.array_agg(c.relkind <> 'S' AND CASE WHEN c.relpages > 0 OR c.reltuples > 0 " +
    'OR pg_catalog.pg_stat_get_live_tuples(c.oid) > 0 THEN true ELSE pg_catalog.pg_relation_size(c.oid) > 0 END) AS h, ' +
    'pg_catalog.array_agg(c.reltuples::float8) AS e, ' +
    "pg_catalog.array_agg(c.relnamespace::pg_catalog.regnamespace::text || '.' || pg_catalog.quote_ident(c.relname)) AS t, " +
    'pg_catalog.array_agg(pg_catalog.pg_stat_get_xact_tuples_inserted(c.oid)::text) AS i, ' +
    'pg_catalog.array_agg(pg_catalog.pg_stat_get_xact_tuples_updated(c.oid)::text) AS u, ' +
    `pg_catalog.array_agg(pg_catalog.pg_stat_get_xact_tuples_deleted(c.oid)::text) AS d${last} ` +
    // Temporary relations (relpersistence t) and toast tables (relkind t) are left out without a
    // regular expression over schema names: this runs in every transaction.
    'FROM pg_catalog.pg_class c ' +
    `WHERE (c.relkind IN ${kinds} AND c.relpersistence <> 't' ` +
    "AND c.relnamespace <> 'pg_catalog'::pg_catalog.regnamespace " +
    "AND c.relnamespace <> 'information_schema'::pg_catalog.regnamespace " +
    "AND c.relnamespace <> (SELECT COALESCE(pg_catalog.to_regnamespace('ddl_undo')::pg_catalog.oid, 0)) " +
    "AND c.oid <> (SELECT COALESCE(pg_catalog.to_regclass('public.ddl_migrations')::pg_catalog.oid, 0)) " +
    "AND c.oid <> (SELECT COALESCE(pg_catalog.to_regclass('public.ddl_migration_claims')::pg_catalog.oid, 0))) " +
    "OR c.oid = 'pg_catalog.pg_largeobject_metadata'::pg_catalog.regclass"
  )
}

interface BaseRelation {
  /** Pending (unflushed) statistics of this backend at BEGIN. */
  readonly ins: string
  readonly upd: string
  readonly del: string
  readonly oid: string
  readonly filenode: string
  readonly kind: string
  readonly had: boolean
  readonly estimate: number
  readonly name: string
  readonly last: string | null
}

/** What was there at BEGIN, held by the client (text in the transaction cannot alter it). */
export interface EffectBaseline {
  readonly relations: ReadonlyMap<string, BaseRelation>
  readonly guards: readonly string[]
}

interface BaselineRow {
  readonly o: readonly string[] | null
  readonly f: readonly string[] | null
  readonly k: readonly string[] | null
  readonly h: readonly boolean[] | null
  readonly e: readonly number[] | null
  readonly t: readonly string[] | null
  readonly i: readonly string[] | null
  readonly u: readonly string[] | null
  readonly d: readonly string[] | null
  readonly q?: readonly (string | null)[] | null
}

/**
 * Measures one transaction: {@link snapshotSql} runs in the BEGIN round trip (after the executor's
 * `SET LOCAL`s), {@link EffectProbe.begun} reads its two results, {@link EffectProbe.measure} reads
 * the effects before COMMIT (one round trip; a second only to name causes when a check fails).
 */
export class EffectProbe {
  #baseline: EffectBaseline | undefined
  readonly #sequences: boolean

  /** `sequences`: also record sequence positions (a rehearsal reports what its rollback cannot undo). */
  constructor(options: { readonly sequences?: boolean } = {}) {
    this.#sequences = options.sequences === true
  }

  /** The statements to append to the BEGIN round trip: the guards as set, then the baseline. */
  get snapshotSql(): string {
    return `${GUARDS_SQL}; ${baselineSql(this.#sequences)}`
  }

  /** Number of results {@link snapshotSql} adds to a multi-statement query. */
  readonly snapshotResults = 2

  /** Takes the two results of {@link snapshotSql}. */
  begun(guards: readonly Record<string, unknown>[], relations: readonly Record<string, unknown>[]): void {
    const g = guards[0] ?? {}
    const row = (relations[0] ?? {}) as Partial<BaselineRow>
    const at = <V>(list: readonly V[] | null | undefined, i: number): V | undefined => list?.[i]
    const map = new Map<string, BaseRelation>()
    const oids = row.o ?? []
    for (const [i, oid] of oids.entries()) {
      map.set(oid, {
        oid,
        filenode: at(row.f, i) ?? '0',
        kind: at(row.k, i) ?? 'r',
        had: at(row.h, i) === true,
        estimate: Number(at(row.e, i) ?? -1),
        name: at(row.t, i) ?? oid,
        last: at(row.q, i) ?? null,
        ins: at(row.i, i) ?? '0',
        upd: at(row.u, i) ?? '0',
        del: at(row.d, i) ?? '0',
      })
    }
    this.#baseline = { relations: map, guards: GUARDS.map((_, i) => String(g[`g${i}`] ?? '')) }
  }

  /** Takes the baseline in a round trip of its own (the migrations engine, whose BEGIN is its own). */
  async snapshot(session: Session): Promise<void> {
    const results = (await session.client.query(this.snapshotSql)) as unknown as { rows: Record<string, unknown>[] }[]
    this.begun(results[0]?.rows ?? [], results[1]?.rows ?? [])
  }

  /**
   * Reads what the transaction did. Throws what the client throws (a server error is a failed
   * check: the caller rolls back).
   */
  async measure(session: Session): Promise<MeasuredEffects> {
    const baseline = this.#baseline
    if (baseline === undefined) throw new Error('effect check: no baseline was taken at BEGIN')
    const { base, seqs } = splitBaseline(baseline)
    const results = (await session.client.query(measureSql(base, seqs))) as unknown as QueryRows[]
    return readMeasure(baseline, seqs, results)
  }

  /**
   * The check and COMMIT in one simple-query message, when the server can tell that nothing needs
   * judging: `SAVEPOINT`, the measuring statements, each of which also divides by zero when it sees
   * anything the check must judge (a pre-existing table dropped, rewritten, or with rows updated or
   * deleted, a trigger or rule disabled, a guard setting moved; inserts alone pass every check), then
   * `tail` (the migrations engine's tracking row: SQL built by this library, never the caller's),
   * `COMMIT`. A failing statement makes the server skip the rest of the message, so COMMIT is never
   * reached when anything needs judging; the transaction is then rolled back to the savepoint (which
   * undoes only the measuring) and measured again, for {@link judgeEffects} to decide as before.
   * Resolves to what happened; throws what the client throws while measuring (a failed check: the
   * caller rolls back). A connection lost during the message leaves the COMMIT's fate unknown: the
   * caller says so.
   */
  async measureAndCommit(session: Session, tail?: string): Promise<FastCommit> {
    const baseline = this.#baseline
    if (baseline === undefined) throw new Error('effect check: no baseline was taken at BEGIN')
    const { base, seqs } = splitBaseline(baseline)
    const measure = measureSql(base, seqs)
    // A name no text of the caller's can know, so no savepoint of theirs can stand in for it.
    const savepoint = `ddl_effect_check_${randomBytes(8).toString('hex')}`
    const text = `SAVEPOINT ${savepoint}; ${measureSql(base, seqs, baseline.guards)}; ${tail === undefined ? '' : `${tail}; `}COMMIT`
    let results: QueryRows[]
    try {
      results = (await session.client.query(text)) as unknown as QueryRows[]
    } catch (error) {
      if (!isServerErrorLike(error)) throw error
      // Which statement failed? Going back to the savepoint tells: it works when the measuring (the
      // check) failed; it fails with 25P01 when the transaction is over (COMMIT itself failed: a
      // deferred constraint or trigger; the server rolled back).
      let again: QueryRows[]
      try {
        again = (await session.client.query(`ROLLBACK TO SAVEPOINT ${savepoint}; ${measure}`)) as unknown as QueryRows[]
      } catch (second) {
        if (isServerErrorLike(second) && second.code === '25P01') return { kind: 'commit-failed', error }
        throw error
      }
      if (error.code !== '22012') throw error
      return { kind: 'review', effects: readMeasure(baseline, seqs, again.slice(1)) }
    }
    const done = results[results.length - 1] as { command?: string | null } | undefined
    return { kind: 'committed', effects: readMeasure(baseline, seqs, results.slice(1)), command: done?.command ?? null }
  }
}

/** What {@link EffectProbe.measureAndCommit} did. */
export type FastCommit =
  /** Nothing needed judging: committed in the same message (`command` is `ROLLBACK` if the server refused). */
  | { readonly kind: 'committed'; readonly effects: MeasuredEffects; readonly command: string | null }
  /** Something needs judging: not committed, the transaction open and usable, the effects measured. */
  | { readonly kind: 'review'; readonly effects: MeasuredEffects }
  /** The check passed and COMMIT failed: the server rolled the transaction back. */
  | { readonly kind: 'commit-failed'; readonly error: { readonly code?: string } }

function isServerErrorLike(error: unknown): error is { readonly code: string } {
  if (typeof error !== 'object' || error === null) return false
  const e = error as { code?: unknown; severity?: unknown }
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string'
}

function splitBaseline(baseline: EffectBaseline): { base: BaseRelation[]; seqs: BaseRelation[] } {
  const all = [...baseline.relations.values()]
  return { base: all.filter((r) => r.kind !== 'S'), seqs: all.filter((r) => r.kind === 'S') }
}

/** Reads the results of {@link measureSql} (its first five) against the baseline. */
function readMeasure(
  baseline: EffectBaseline,
  seqs: readonly BaseRelation[],
  results: readonly QueryRows[],
): MeasuredEffects {
  const guardsRow = results[1]?.rows[0] ?? {}
  const tableRows = (results[2]?.rows ?? []) as unknown as MeasureRow[]
  const disabledRows = (results[3]?.rows ?? []) as unknown as {
    w: string
    n: string
    r: string
    s: string
  }[]
  const seqRows = (results[4]?.rows ?? []) as unknown as { o: string; q: string | null }[]

  const guards: GuardChange[] = []
  GUARDS.forEach((setting, i) => {
    const expected = baseline.guards[i] ?? ''
    const actual = String(guardsRow[`g${i}`] ?? '')
    if (expected !== actual) guards.push({ setting, expected, actual })
  })
  let largeObjectsUnlinked = 0
  const tables: TableEffect[] = []
  for (const row of tableRows) {
    const b = baseline.relations.get(row.o)
    if (b === undefined) continue
    const inserted = Number(row.ins)
    const updated = Number(row.upd)
    const deleted = Number(row.del)
    if (b.name === 'pg_catalog.pg_largeobject_metadata') {
      largeObjectsUnlinked = deleted
      continue
    }
    const probe = parseProbe(row.p)
    const moved = row.moved === true
    // No row the table had at BEGIN is left unmodified (or its rows could not be read: fail closed).
    const noneLeft = probe === 'unreadable' || (probe !== undefined && !probe.untouched)
    const emptied = b.had && noneLeft && (moved ? probe === 'unreadable' || !probe?.any || inserted > 0 : deleted > 0)
    const everyRowUpdated = b.had && !emptied && noneLeft && updated >= 2
    tables.push({
      table: b.name,
      inserted,
      updated,
      deleted,
      emptied,
      everyRowUpdated,
      dropped: row.gone === true,
      rewritten: moved,
      truncated: moved && emptied,
      estimatedRows: b.estimate,
    })
  }
  const sequences: SequenceMove[] = []
  const seqNow = new Map(seqRows.map((r) => [r.o, r.q]))
  for (const s of seqs) {
    if (!seqNow.has(s.oid)) continue
    const now = seqNow.get(s.oid) ?? null
    if (now !== s.last) sequences.push({ sequence: s.name, from: s.last, to: now })
  }
  return {
    tables: tables.sort((a, b) => a.table.localeCompare(b.table)),
    largeObjectsUnlinked,
    disabledTriggers: disabledRows.filter((r) => r.w === 'trigger').map((r) => ({ table: r.r, name: r.n, state: r.s })),
    disabledRules: disabledRows.filter((r) => r.w === 'rule').map((r) => ({ table: r.r, name: r.n, state: r.s })),
    guards,
    sequences,
  }
}

interface MeasureRow {
  readonly o: string
  readonly gone: boolean
  readonly moved: boolean
  readonly ins: string
  readonly upd: string
  readonly del: string
  readonly p: string | null
}

/** Above this size a table the plan barely touched (by the estimate) is not probed. */
const PROBE_ALWAYS_BYTES = 8 * 1024 * 1024

function numbers(values: readonly string[]): string {
  // Every value is an oid, relfilenode or count the server sent as digits; anything else becomes 0
  // (so the arrays stay aligned and no text of anyone's reaches the SQL).
  return `'{${values.map((v) => (/^\d+$/.test(v) ? v : '0')).join(',')}}'`
}

/**
 * The measuring round trip, built from digits only (oids, relfilenodes, booleans, estimates): no
 * text of the caller's goes into it. `search_path` is pinned first, so no object the transaction
 * created can stand in for a catalog.
 */
function measureSql(
  base: readonly BaseRelation[],
  seqs: readonly BaseRelation[],
  checkGuards?: readonly string[],
): string {
  // With `checkGuards` (the fast path, EffectProbe.measureAndCommit), each statement also divides by
  // zero when it sees what the check must judge: a guard moved, a relation gone, rewritten, or with
  // rows updated or deleted (inserts alone pass every check), a trigger or rule disabled. Written so
  // that a NULL anywhere divides by zero too (fail closed).
  const check = (ok: string) =>
    checkGuards === undefined ? '' : `, 1 OPERATOR(pg_catalog./) (CASE WHEN ${ok} THEN 1 ELSE 0 END) AS clean`
  const quotable =
    checkGuards !== undefined && checkGuards.length === GUARDS.length && checkGuards.every((g) => PLAIN_SETTING.test(g))
  const guardsSame = quotable
    ? GUARDS.map((g, i) => `pg_catalog.current_setting('${g}') = '${checkGuards[i]}'`).join(' AND ')
    : 'false'
  const kept = base.filter((r) => /^\d+$/.test(r.oid) && /^\d+$/.test(r.filenode))
  const oids = numbers(kept.map((r) => r.oid))
  const nodes = numbers(kept.map((r) => r.filenode))
  const had = `'{${kept.map((r) => (r.had ? 't' : 'f')).join(',')}}'`
  const est = `'{${kept.map((r) => (Number.isFinite(r.estimate) ? String(r.estimate) : '-1')).join(',')}}'`
  const i0 = numbers(kept.map((r) => r.ins))
  const u0 = numbers(kept.map((r) => r.upd))
  const d0 = numbers(kept.map((r) => r.del))
  const probe =
    "pg_catalog.query_to_xml(pg_catalog.format('SELECT EXISTS (SELECT 1 FROM ONLY %s WHERE pg_catalog.age(xmin) > 0) AS u, " +
    "EXISTS (SELECT 1 FROM ONLY %s) AS a', t.o::regclass, t.o::regclass), false, true, '')::text"
  const seqSql =
    seqs.length === 0
      ? 'SELECT NULL::text AS o, NULL::text AS q WHERE false'
      : `SELECT s.o::text AS o, CASE WHEN pg_catalog.has_sequence_privilege(s.o, 'SELECT,USAGE') ` +
        'THEN pg_catalog.pg_sequence_last_value(s.o)::text END AS q ' +
        `FROM pg_catalog.unnest(${numbers(seqs.map((s) => s.oid))}::pg_catalog.oid[]) AS s(o) ` +
        'JOIN pg_catalog.pg_class c ON c.oid = s.o'
  return [
    'SET LOCAL search_path = pg_catalog, pg_temp',
    `${GUARDS_SQL}${check(guardsSame)}`,
    'WITH b AS (SELECT * FROM unnest(' +
      `${oids}::pg_catalog.oid[], ${nodes}::pg_catalog.oid[], ${had}::pg_catalog.bool[], ${est}::pg_catalog.float8[], ` +
      `${i0}::pg_catalog.int8[], ${u0}::pg_catalog.int8[], ${d0}::pg_catalog.int8[]) AS b(o, f, h, e, i0, u0, d0)), ` +
      't AS (SELECT b.o, b.f, b.h, b.e, c.oid IS NULL AS gone, c.relfilenode AS nf, c.relkind, ' +
      'pg_catalog.pg_stat_get_xact_tuples_inserted(b.o) - b.i0 AS ins, ' +
      'pg_catalog.pg_stat_get_xact_tuples_updated(b.o) - b.u0 AS upd, ' +
      'pg_catalog.pg_stat_get_xact_tuples_deleted(b.o) - b.d0 AS del ' +
      'FROM b LEFT JOIN pg_catalog.pg_class c ON c.oid = b.o) ' +
      'SELECT t.o::text AS o, t.gone, (NOT t.gone AND t.f <> 0 AND t.nf <> t.f) AS moved, ' +
      't.ins::text AS ins, t.upd::text AS upd, t.del::text AS del, ' +
      "CASE WHEN NOT t.gone AND t.relkind = 'r' AND t.h AND t.o <> 'pg_catalog.pg_largeobject_metadata'::pg_catalog.regclass " +
      'AND (t.upd + t.del > 0 OR t.nf <> t.f) ' +
      `AND (t.nf <> t.f OR t.e < 0 OR (t.upd + t.del) * 2 >= t.e OR pg_catalog.pg_relation_size(t.o) <= ${PROBE_ALWAYS_BYTES}) ` +
      `THEN CASE WHEN pg_catalog.has_table_privilege(t.o, 'SELECT') THEN ${probe} ELSE 'unreadable' END END AS p` +
      check('t.gone IS FALSE AND (t.f = 0 OR t.nf = t.f) IS TRUE AND t.upd = 0 AND t.del = 0') +
      ' FROM t WHERE t.gone OR (t.f <> 0 AND t.nf <> t.f) OR t.ins + t.upd + t.del > 0',
    "SELECT 'trigger' AS w, tg.tgname::text AS n, tg.tgrelid::pg_catalog.regclass::text AS r, tg.tgenabled::text AS s" +
      check("tg.tgenabled NOT IN ('D', 'R')") +
      " FROM pg_catalog.pg_trigger tg WHERE tg.tgenabled IN ('D', 'R') AND pg_catalog.age(tg.xmin) <= 0 " +
      "UNION ALL SELECT 'rule', rw.rulename::text, rw.ev_class::pg_catalog.regclass::text, rw.ev_enabled::text" +
      check("rw.ev_enabled NOT IN ('D', 'R')") +
      " FROM pg_catalog.pg_rewrite rw WHERE rw.ev_enabled IN ('D', 'R') AND pg_catalog.age(rw.xmin) <= 0",
    seqSql,
  ].join('; ')
}

/** Guard values the clean check may quote: settings such as `5000ms`, `0`, `origin`. */
const PLAIN_SETTING = /^[A-Za-z0-9_.:+-]*$/

type Probe = { readonly untouched: boolean; readonly any: boolean } | 'unreadable' | undefined

function parseProbe(text: string | null): Probe {
  if (text === null) return undefined
  if (text === 'unreadable') return 'unreadable'
  return { untouched: /<u>true<\/u>/.test(text), any: /<a>true<\/a>/.test(text) }
}

/** `schema.table` without quotes, for policy globs. */
function plainName(name: string): string {
  return name.replace(/"/g, '')
}

function globMatches(glob: string, name: string): boolean {
  const pattern = glob
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^.]*')
  return (
    new RegExp(`^${pattern}$`).test(name) || (!glob.includes('.') && new RegExp(`^public\\.${pattern}$`).test(name))
  )
}

function allowedByPolicy(effect: EffectKind, table: string, allow: readonly AllowedEffect[] | undefined): boolean {
  if (allow === undefined) return false
  return allow.some(
    (entry) =>
      (entry.effects as readonly string[]).includes(effect) && globMatches(plainName(entry.table), plainName(table)),
  )
}

/**
 * The tables a plan names in TRUNCATE, as `schema.table` or `table`: emptying them is what the text
 * shows (its tier is the statement's), not a hidden effect.
 */
export function truncatedNames(plan: Plan | readonly ClassifiedStatement[]): string[] {
  const statements = 'statements' in plan ? plan.statements : plan
  const names: string[] = []
  for (const statement of statements) {
    if (statement.kind !== 'TruncateStmt') continue
    const node = (statement.ast as unknown as Record<string, unknown> | undefined)?.TruncateStmt as
      | { relations?: unknown[] }
      | undefined
    for (const item of node?.relations ?? []) {
      const r = ((item as { RangeVar?: unknown }).RangeVar ?? item) as { schemaname?: unknown; relname?: unknown }
      if (typeof r.relname !== 'string') continue
      names.push(typeof r.schemaname === 'string' ? `${r.schemaname}.${r.relname}` : r.relname)
    }
  }
  return names
}

function namedIn(table: string, names: readonly string[]): boolean {
  const plain = plainName(table)
  const bare = plain.split('.').slice(1).join('.')
  return names.some((n) => n === plain || (!n.includes('.') && n === bare))
}

/**
 * Each effect with the tier it needs. Emptying a table a TRUNCATE of the plan names needs what that
 * TRUNCATE needs (`cautious`); emptying one otherwise (a WHERE that matched every row, a function)
 * needs `destructive`. Never throws.
 */
export function effectsWithTiers(effects: MeasuredEffects, truncated: readonly string[] = []): EffectViolation[] {
  const out: EffectViolation[] = []
  for (const t of effects.tables) {
    if (t.dropped) {
      out.push({ effect: 'drop', table: t.table, detail: `${t.table} was dropped`, tier: 'destructive' })
      continue
    }
    if (t.emptied) {
      const how = t.truncated
        ? `${t.table} was emptied (truncated${t.estimatedRows > 0 ? `, about ${Math.round(t.estimatedRows)} rows` : ''})`
        : `${t.table} was emptied: ${t.deleted} rows deleted, none of the rows it had is left`
      out.push({
        effect: 'empty',
        table: t.table,
        detail: how,
        tier:
          t.truncated && namedIn(t.table, truncated)
            ? 'cautious'
            : t.truncated || t.deleted >= 2
              ? 'destructive'
              : 'cautious',
      })
    } else if (t.deleted > 0) {
      out.push({
        effect: 'delete',
        table: t.table,
        detail: `${t.deleted} rows deleted from ${t.table}`,
        tier: 'cautious',
      })
    }
    if (t.everyRowUpdated) {
      out.push({
        effect: 'update-every-row',
        table: t.table,
        detail: `every row of ${t.table} was updated (${t.updated} row updates)`,
        tier: 'destructive',
      })
    } else if (t.updated > 0) {
      out.push({
        effect: 'update',
        table: t.table,
        detail: `${t.updated} rows updated in ${t.table}`,
        tier: 'cautious',
      })
    }
  }
  if (effects.largeObjectsUnlinked > 0) {
    out.push({
      effect: 'unlink-large-objects',
      table: 'pg_catalog.pg_largeobject',
      detail: `${effects.largeObjectsUnlinked} large objects unlinked (their data is deleted)`,
      tier: 'destructive',
    })
  }
  for (const t of effects.disabledTriggers) {
    out.push({
      effect: 'disable-trigger',
      table: t.table,
      detail: `trigger ${t.name} on ${t.table} ${t.state === 'R' ? 'set to fire only in replica mode' : 'disabled'}`,
      tier: 'cautious',
    })
  }
  for (const r of effects.disabledRules) {
    out.push({
      effect: 'disable-rule',
      table: r.table,
      detail: `rule ${r.name} on ${r.table} ${r.state === 'R' ? 'set to fire only in replica mode' : 'disabled'}`,
      tier: 'cautious',
    })
  }
  for (const g of effects.guards) {
    out.push({
      effect: 'lift-guard',
      table: g.setting,
      detail: `${g.setting} is ${g.actual || "''"}, the executor set ${g.expected || "''"}`,
      tier: 'cautious',
    })
  }
  return out
}

/** The highest tier the measured effects need (`safe` when none needs a flag). Never throws. */
export function effectTier(effects: MeasuredEffects, truncated: readonly string[] = []): Tier {
  let tier: Tier = 'safe'
  for (const e of effectsWithTiers(effects, truncated)) if (compareTiers(e.tier, tier) > 0) tier = e.tier
  return tier
}

/** Rows deleted plus updated in pre-existing tables (tables a policy allows excluded), truncations by estimate. */
export function changedRows(effects: MeasuredEffects, allow?: readonly AllowedEffect[]): number {
  let n = 0
  for (const t of effects.tables) {
    const rows = t.truncated ? Math.max(1, Math.round(t.estimatedRows)) : t.deleted
    if (!allowedByPolicy('delete', t.table, allow)) n += rows
    if (!allowedByPolicy('update', t.table, allow)) n += t.updated
  }
  return n
}

function flagName(tier: Tier, style: FlagStyle): string {
  if (tier === 'destructive') return style === 'cli' ? '--i-know-what-im-doing' : 'iKnowWhatImDoing: true'
  return style === 'cli' ? '--confirm' : 'confirm: true'
}

const TIER_WORD: Record<Tier, string> = { safe: 'safe', cautious: 'cautious', destructive: 'destructive' }

/** Server-side code on the tables a transaction touched: triggers, rules, cascading foreign keys. */
const CAUSES_SQL = `
SELECT 'trigger ' || tg.tgname || ' on ' || tg.tgrelid::pg_catalog.regclass::text || ' (runs ' || tg.tgfoid::pg_catalog.regprocedure::text || ')' AS c
FROM pg_catalog.pg_trigger tg
WHERE NOT tg.tgisinternal AND tg.tgrelid = ANY ($1::pg_catalog.oid[])
UNION ALL
SELECT 'rule ' || rw.rulename || ' on ' || rw.ev_class::pg_catalog.regclass::text ||
       CASE WHEN rw.is_instead THEN ' (DO INSTEAD)' ELSE ' (DO ALSO)' END
FROM pg_catalog.pg_rewrite rw
WHERE rw.ev_type <> '1' AND (rw.ev_class = ANY ($1::pg_catalog.oid[]) OR EXISTS (
  SELECT 1 FROM pg_catalog.pg_depend d
  WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = rw.oid
    AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = ANY ($1::pg_catalog.oid[])))
UNION ALL
SELECT 'foreign key ' || con.conname || ' on ' || con.conrelid::pg_catalog.regclass::text || ' (ON DELETE ' ||
       CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' ELSE 'SET DEFAULT' END || ' from ' ||
       con.confrelid::pg_catalog.regclass::text || ')'
FROM pg_catalog.pg_constraint con
WHERE con.contype = 'f' AND con.confdeltype IN ('c', 'n', 'd') AND con.conrelid = ANY ($1::pg_catalog.oid[])`

/**
 * What on the server may have caused effects the text does not show: triggers and rules on the
 * tables the transaction touched, and cascading foreign keys into them. Best effort (an error gives
 * no causes). Never throws.
 */
export async function effectCauses(session: Session, tables: readonly string[]): Promise<string[]> {
  if (tables.length === 0) return []
  try {
    const oids = await session.client.query<{ o: string }>({
      text: 'SELECT pg_catalog.to_regclass(t)::pg_catalog.oid::text AS o FROM pg_catalog.unnest($1::text[]) AS t',
      values: [tables],
    })
    const list = oids.rows.map((r) => r.o).filter((o) => o !== null)
    const result = await session.client.query<{ c: string }>({ text: CAUSES_SQL, values: [list] })
    return result.rows.map((r) => r.c)
  } catch {
    return []
  }
}

/**
 * Compares measured effects with the limits: effects beyond the allowed tier (policy's allowed
 * effects excepted), rows beyond `maxRows`, effects beyond the rehearsal's. Returns the error to
 * roll back with, or `undefined`. Never throws.
 */
export function judgeEffects(
  effects: MeasuredEffects,
  limits: EffectLimits,
  truncated: readonly string[],
  causes: readonly string[] = [],
): SafetyError | undefined {
  const all = effectsWithTiers(effects, truncated)
  const beyond = all.filter(
    (e) => compareTiers(e.tier, limits.allowed) > 0 && !allowedByPolicy(e.effect, e.table, limits.allowEffects),
  )
  const causeLines =
    causes.length > 0
      ? ['Server-side code on the tables involved (what the SQL text does not show):', ...causes.map((c) => `  ${c}`)]
      : []
  if (beyond.length > 0) {
    const needed: Tier = beyond.some((e) => e.tier === 'destructive') ? 'destructive' : 'cautious'
    const first = beyond[0] as EffectViolation
    const lines = [
      `Effect exceeds the allowed tier: ${first.effect} on ${first.table}. Rolled back; nothing was changed.`,
      `Allowed: ${TIER_WORD[limits.allowed]}. The server measured what the transaction did:`,
      ...beyond.map((e) => `  ${e.effect}: ${e.detail} (${TIER_WORD[e.tier]})`),
      ...causeLines,
      `Use ${flagName(needed, limits.style)} to allow it, after checking that it is what you meant.`,
    ]
    return new SafetyError(lines.join('\n'), {
      reason: 'effect-exceeds-tier',
      tier: needed,
      requires: needed === 'destructive' ? 'iKnowWhatImDoing' : 'confirm',
      statements: [],
      hint:
        'The SQL text looked narrower than what ran: a trigger, rule, view or function on the server, or a WHERE that ' +
        'matched every row. Rehearse it (--rehearse) to see the measured effects.',
      effects: beyond,
    })
  }
  if (limits.maxRows !== undefined) {
    const rows = changedRows(effects, limits.allowEffects)
    if (rows > limits.maxRows) {
      const touched = all.filter((e) => e.effect !== 'lift-guard')
      const hint = `Narrow the WHERE, or raise the limit (${limits.style === 'cli' ? '--max-rows N' : 'maxRows'}) if ${rows} rows is what you meant.`
      return new SafetyError(
        [
          `Effect exceeds the row limit: ${rows} rows deleted or updated, the limit is ${limits.maxRows}. Rolled back; nothing was changed.`,
          ...touched.map((e) => `  ${e.effect}: ${e.detail}`),
          ...causeLines,
          hint,
        ].join('\n'),
        {
          reason: 'effect-exceeds-max-rows',
          tier: limits.allowed,
          requires: 'none',
          statements: [],
          hint,
          effects: touched,
        },
      )
    }
  }
  if (limits.expected !== undefined) {
    const extra = beyondRehearsal(effects, limits.expected)
    if (extra.length > 0) {
      return new SafetyError(
        [
          `Effect exceeds the rehearsal: the run did more than the rehearsal that was approved showed. Rolled back; nothing was changed.`,
          ...extra.map((e) => `  ${e.effect} on ${e.table}: ${e.detail}`),
          ...causeLines,
          REHEARSAL_HINT,
        ].join('\n'),
        {
          reason: 'effect-exceeds-rehearsal',
          tier: limits.allowed,
          requires: 'none',
          statements: [],
          hint: REHEARSAL_HINT,
          effects: extra,
        },
      )
    }
  }
  return undefined
}

const REHEARSAL_HINT =
  'Something changed since the rehearsal (data, triggers, foreign keys). Rehearse again and ask for a new approval.'

/** Effects of a run beyond what the rehearsal measured: each shows both counts. Never throws. */
export function beyondRehearsal(run: MeasuredEffects, rehearsal: MeasuredEffects): EffectViolation[] {
  const out: EffectViolation[] = []
  const seen = new Map(rehearsal.tables.map((t) => [t.table, t]))
  for (const t of run.tables) {
    const r = seen.get(t.table)
    const was = (n: number | undefined) => `rehearsal ${n ?? 0}`
    if (t.deleted > (r?.deleted ?? 0)) {
      out.push({
        effect: 'delete',
        table: t.table,
        detail: `run deleted ${t.deleted} rows, ${was(r?.deleted)}`,
        tier: 'cautious',
      })
    }
    if (t.updated > (r?.updated ?? 0)) {
      out.push({
        effect: 'update',
        table: t.table,
        detail: `run updated ${t.updated} rows, ${was(r?.updated)}`,
        tier: 'cautious',
      })
    }
    if (t.emptied && r?.emptied !== true) {
      out.push({
        effect: 'empty',
        table: t.table,
        detail: 'run emptied it, the rehearsal did not',
        tier: 'destructive',
      })
    }
    if (t.everyRowUpdated && r?.everyRowUpdated !== true) {
      out.push({
        effect: 'update-every-row',
        table: t.table,
        detail: 'run updated every row, the rehearsal did not',
        tier: 'destructive',
      })
    }
    if (t.dropped && r?.dropped !== true) {
      out.push({ effect: 'drop', table: t.table, detail: 'run dropped it, the rehearsal did not', tier: 'destructive' })
    }
  }
  if (run.largeObjectsUnlinked > rehearsal.largeObjectsUnlinked) {
    out.push({
      effect: 'unlink-large-objects',
      table: 'pg_catalog.pg_largeobject',
      detail: `run unlinked ${run.largeObjectsUnlinked}, rehearsal ${rehearsal.largeObjectsUnlinked}`,
      tier: 'destructive',
    })
  }
  const names = (list: readonly DisabledObject[]) => new Set(list.map((d) => `${d.table}|${d.name}`))
  const trig = names(rehearsal.disabledTriggers)
  for (const d of run.disabledTriggers) {
    if (!trig.has(`${d.table}|${d.name}`)) {
      out.push({ effect: 'disable-trigger', table: d.table, detail: `trigger ${d.name}`, tier: 'cautious' })
    }
  }
  const rules = names(rehearsal.disabledRules)
  for (const d of run.disabledRules) {
    if (!rules.has(`${d.table}|${d.name}`)) {
      out.push({ effect: 'disable-rule', table: d.table, detail: `rule ${d.name}`, tier: 'cautious' })
    }
  }
  return out
}

/**
 * The commit-time check of one transaction: measure, judge, and (only when it fails) name the
 * server-side causes. `Err(SafetyError)` means: roll back. A server error while measuring is thrown
 * to the caller, which rolls back too (fail closed).
 */
export async function checkEffects(
  session: Session,
  probe: EffectProbe,
  limits: EffectLimits,
  truncated: readonly string[],
): Promise<Result<MeasuredEffects, SafetyError>> {
  return judgeMeasured(session, await probe.measure(session), limits, truncated)
}

/**
 * {@link checkEffects} on effects already measured (by {@link EffectProbe.measureAndCommit}'s review
 * path): judge, and name the server-side causes when the check fails. Never throws.
 */
export async function judgeMeasured(
  session: Session,
  effects: MeasuredEffects,
  limits: EffectLimits,
  truncated: readonly string[],
): Promise<Result<MeasuredEffects, SafetyError>> {
  const verdict = judgeEffects(effects, limits, truncated)
  if (verdict === undefined) return ok(effects)
  const involved = effects.tables
    .filter((t) => t.inserted + t.updated + t.deleted > 0 || t.dropped || t.rewritten)
    .map((t) => t.table)
  const causes = await effectCauses(session, involved)
  return err(judgeEffects(effects, limits, truncated, causes) ?? verdict)
}

/** One line per measured effect, for reports (rehearsal, CLI). Never throws. */
export function effectLines(effects: MeasuredEffects): string[] {
  const lines: string[] = []
  for (const t of effects.tables) {
    const parts: string[] = []
    if (t.dropped) parts.push('dropped')
    if (t.emptied) parts.push(t.truncated ? 'emptied (truncated)' : 'emptied')
    else if (t.rewritten) parts.push('rewritten')
    if (t.deleted > 0) parts.push(`${t.deleted} deleted`)
    if (t.updated > 0) parts.push(t.everyRowUpdated ? `${t.updated} updated (every row)` : `${t.updated} updated`)
    if (t.inserted > 0) parts.push(`${t.inserted} inserted`)
    if (parts.length > 0) lines.push(`${t.table}: ${parts.join(', ')}`)
  }
  if (effects.largeObjectsUnlinked > 0) lines.push(`${effects.largeObjectsUnlinked} large objects unlinked`)
  for (const d of effects.disabledTriggers) lines.push(`trigger ${d.name} on ${d.table} disabled`)
  for (const d of effects.disabledRules) lines.push(`rule ${d.name} on ${d.table} disabled`)
  for (const g of effects.guards) lines.push(`${g.setting} changed from ${g.expected} to ${g.actual}`)
  return lines
}

/** No effects at all (what a run with no measurement reports). */
export const NO_EFFECTS: MeasuredEffects = Object.freeze({
  tables: [],
  largeObjectsUnlinked: 0,
  disabledTriggers: [],
  disabledRules: [],
  guards: [],
  sequences: [],
})

/** A result of a multi-statement query, as node-postgres returns it. */
interface QueryRows {
  readonly rows: readonly Record<string, unknown>[]
}

/**
 * What `inTransaction` calls to measure a transaction: `snapshotSql` rides in the BEGIN round trip,
 * `begun` takes its results, `beforeEnd` runs after the work and before COMMIT (or a rehearsal's
 * ROLLBACK); an `Err` rolls back. A throw is a failed check (rolled back, fail closed).
 */
export interface EffectWatch<E> {
  readonly snapshotSql: string
  begun(results: readonly QueryRows[]): void
  beforeEnd(session: Session): Promise<Result<void, E>>
  /**
   * The check and COMMIT in one round trip when nothing needs judging (see
   * {@link EffectProbe.measureAndCommit}); otherwise the check's verdict with the transaction still
   * open, for the caller to COMMIT or roll back. Absent: the caller uses `beforeEnd`, then COMMIT.
   * Throws what the client throws while measuring.
   */
  commitIfClean?(session: Session): Promise<WatchedCommit<E>>
}

/** What {@link EffectWatch.commitIfClean} did. */
export type WatchedCommit<E> =
  | { readonly kind: 'committed'; readonly command: string | null }
  | { readonly kind: 'review'; readonly checked: Result<void, E> }
  | { readonly kind: 'commit-failed'; readonly error: unknown }

function watchOf<E>(probe: EffectProbe, end: (session: Session) => Promise<Result<void, E>>): EffectWatch<E> {
  return {
    snapshotSql: probe.snapshotSql,
    begun(results) {
      const tail = results.slice(-probe.snapshotResults)
      probe.begun(tail[0]?.rows ?? [], tail[1]?.rows ?? [])
    },
    beforeEnd: end,
  }
}

/** Statement kinds whose own text deletes, updates, empties or drops rows or tables. */
const EFFECT_KINDS = new Set(['DeleteStmt', 'UpdateStmt', 'MergeStmt', 'TruncateStmt', 'DropStmt'])

/**
 * True when the statements' own text already does something the check must judge (a DELETE, UPDATE,
 * MERGE, TRUNCATE, DROP, or a rewrite): the server would stop the one-round-trip COMMIT, and the
 * check would measure twice. Such runs take the check and COMMIT in two round trips instead. Only a
 * choice of speed: the check is the same either way. Never throws.
 */
export function expectsEffects(statements: readonly ClassifiedStatement[]): boolean {
  return statements.some((s) => EFFECT_KINDS.has(s.kind) || s.verdict.rewrite === true)
}

/**
 * The commit-time effect check: limits are read when the work is done (a `transaction()` callback
 * raises its flags as it goes). `onMeasured` receives the effects of a run that passed. `fast` says
 * whether to try the check and COMMIT in one round trip ({@link expectsEffects}).
 */
export function commitCheck(
  limits: () => EffectLimits,
  truncated: () => readonly string[],
  onMeasured?: (effects: MeasuredEffects) => void,
  fast: () => boolean = () => true,
): EffectWatch<SafetyError> {
  const probe = new EffectProbe()
  const watch = watchOf(probe, async (session) => {
    const checked = await checkEffects(session, probe, limits(), truncated())
    if (checked.isErr()) return err(checked.error)
    onMeasured?.(checked.value)
    return ok(undefined)
  })
  return {
    ...watch,
    async commitIfClean(session): Promise<WatchedCommit<SafetyError>> {
      if (!fast()) return { kind: 'review', checked: await watch.beforeEnd(session) }
      const done = await probe.measureAndCommit(session)
      if (done.kind === 'commit-failed') return done
      if (done.kind === 'committed') {
        onMeasured?.(done.effects)
        return { kind: 'committed', command: done.command }
      }
      const checked = await judgeMeasured(session, done.effects, limits(), truncated())
      if (checked.isErr()) return { kind: 'review', checked: err(checked.error) }
      onMeasured?.(checked.value)
      return { kind: 'review', checked: ok(undefined) }
    },
  }
}

/** A rehearsal's measurement: effects and sequence moves, never a refusal. */
export function rehearsalWatch(onMeasured: (effects: MeasuredEffects) => void): EffectWatch<never> {
  const probe = new EffectProbe({ sequences: true })
  return watchOf(probe, async (session) => {
    onMeasured(await probe.measure(session))
    return ok(undefined)
  })
}
