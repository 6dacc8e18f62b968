import type { Tier } from '@ddl/classifier'
import type pg from 'pg'

/** The table that records applied migrations (one row per applied file). */
export const TRACKING_TABLE = 'public.ddl_migrations'

/** The table where a runner claims a file it applies outside a transaction (CREATE INDEX CONCURRENTLY). */
export const CLAIMS_TABLE = 'public.ddl_migration_claims'

/**
 * The tracking table. A row exists exactly when its file was applied: for a file that runs in a
 * transaction, the row is inserted in that same transaction, so both commit or neither does.
 */
export const CREATE_TRACKING_TABLE = `CREATE TABLE IF NOT EXISTS ${TRACKING_TABLE} (
  name text PRIMARY KEY,
  checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
  applied_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  duration_ms integer NOT NULL CHECK (duration_ms >= 0),
  tier text NOT NULL CHECK (tier IN ('safe', 'cautious', 'destructive')),
  applied_by text NOT NULL,
  transactional boolean NOT NULL
)`

export const COMMENT_TRACKING_TABLE = `COMMENT ON TABLE ${TRACKING_TABLE} IS 'Migrations applied by safe-ddl (ddl migrate): one row per applied file, written in the same transaction as the file.'`

/**
 * Claims of files that run outside a transaction. A claim names the backend that holds it, so a
 * claim whose backend is gone (the runner died) can be told from one still at work.
 */
export const CREATE_CLAIMS_TABLE = `CREATE TABLE IF NOT EXISTS ${CLAIMS_TABLE} (
  name text PRIMARY KEY,
  checksum text NOT NULL,
  claimed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  claimed_by text NOT NULL,
  backend_pid integer NOT NULL,
  backend_start timestamptz
)`

/** A row of the tracking table. */
export interface AppliedRow {
  readonly name: string
  readonly checksum: string
  readonly appliedAt: Date
  readonly durationMs: number
  readonly tier: Tier
  readonly appliedBy: string
  readonly transactional: boolean
}

/** A claim of a file being applied outside a transaction. */
export interface ClaimRow {
  readonly name: string
  readonly claimedAt: Date
  readonly claimedBy: string
  readonly backendPid: number
  /** True while the claiming backend is still connected. */
  readonly alive: boolean
}

type Client = pg.ClientBase

/** True when `relation` (schema-qualified) exists. Rejects with node-postgres's error. */
export async function relationExists(client: Client, relation: string): Promise<boolean> {
  const result = await client.query<{ exists: boolean }>({
    text: 'SELECT to_regclass($1) IS NOT NULL AS exists',
    values: [relation],
  })
  return result.rows[0]?.exists === true
}

/** Creates the tracking table when missing. Call inside a transaction holding the runner lock. */
export async function createTrackingTable(client: Client): Promise<void> {
  if (await relationExists(client, TRACKING_TABLE)) return
  await client.query(CREATE_TRACKING_TABLE)
  await client.query(COMMENT_TRACKING_TABLE)
}

/** Creates the claims table when missing. Call inside a transaction holding the runner lock. */
export async function createClaimsTable(client: Client): Promise<void> {
  if (await relationExists(client, CLAIMS_TABLE)) return
  await client.query(CREATE_CLAIMS_TABLE)
}

interface RawRow {
  readonly name: string
  readonly checksum: string
  readonly applied_at: Date
  readonly duration_ms: number
  readonly tier: string
  readonly applied_by: string
  readonly transactional: boolean
}

const SELECT_ROWS = `SELECT name, checksum, applied_at, duration_ms, tier, applied_by, transactional FROM ${TRACKING_TABLE}`

function toRow(raw: RawRow): AppliedRow {
  const tier: Tier = raw.tier === 'cautious' || raw.tier === 'destructive' ? raw.tier : 'safe'
  return {
    name: raw.name,
    checksum: raw.checksum,
    appliedAt: raw.applied_at,
    durationMs: raw.duration_ms,
    tier,
    appliedBy: raw.applied_by,
    transactional: raw.transactional,
  }
}

/**
 * Every applied migration by name; empty (and `exists: false`) when the table does not exist yet.
 * Rejects with node-postgres's error.
 */
export async function readApplied(client: Client): Promise<{ exists: boolean; rows: Map<string, AppliedRow> }> {
  if (!(await relationExists(client, TRACKING_TABLE))) return { exists: false, rows: new Map() }
  const result = await client.query<RawRow>(`${SELECT_ROWS} ORDER BY applied_at, name`)
  return { exists: true, rows: new Map(result.rows.map((raw) => [raw.name, toRow(raw)])) }
}

/** The row of one migration, read with a fresh snapshot (after the lock). Rejects with node-postgres's error. */
export async function readAppliedRow(client: Client, name: string): Promise<AppliedRow | undefined> {
  const result = await client.query<RawRow>({ text: `${SELECT_ROWS} WHERE name = $1`, values: [name] })
  const raw = result.rows[0]
  return raw === undefined ? undefined : toRow(raw)
}

/**
 * A text value as a SQL literal built from hex digits only (`convert_from(decode('...', 'hex'),
 * 'UTF8')`), for the simple-protocol messages that cannot bind parameters: a file name or an actor
 * can hold any character, and none of it reaches the SQL as text.
 */
export function textLiteral(value: string): string {
  return `pg_catalog.convert_from(pg_catalog.decode('${Buffer.from(value, 'utf8').toString('hex')}', 'hex'), 'UTF8')`
}

/** {@link readAppliedRow}'s query as one statement of a simple-protocol message (no parameters). */
export function appliedRowSql(name: string): string {
  return `${SELECT_ROWS} WHERE name = ${textLiteral(name)}`
}

/** The tracking row in a result of {@link appliedRowSql}. */
export function appliedRowOf(rows: readonly unknown[]): AppliedRow | undefined {
  const raw = rows[0] as RawRow | undefined
  return raw === undefined ? undefined : toRow(raw)
}

/** What the tracking row of an applied file holds. */
export interface AppliedRecord {
  readonly name: string
  readonly checksum: string
  readonly durationMs: number
  readonly tier: Tier
  readonly appliedBy: string
  readonly transactional: boolean
}

/**
 * Inserts the tracking row. With `replace` (a Flyway repeatable applied again), the row of an earlier
 * application is replaced. Rejects with node-postgres's error (23505 if another runner got there first).
 */
export async function insertApplied(client: Client, record: AppliedRecord, replace = false): Promise<void> {
  await client.query({
    text: `INSERT INTO ${TRACKING_TABLE} (name, checksum, duration_ms, tier, applied_by, transactional) VALUES ($1, $2, $3, $4, $5, $6)${upsertOf(replace)}`,
    values: [record.name, record.checksum, durationOf(record), record.tier, record.appliedBy, record.transactional],
  })
}

/** {@link insertApplied} as one statement of a simple-protocol message: every text value hex-encoded. */
export function insertAppliedSql(record: AppliedRecord, replace = false): string {
  const values = [
    textLiteral(record.name),
    textLiteral(record.checksum),
    String(durationOf(record)),
    textLiteral(record.tier),
    textLiteral(record.appliedBy),
    record.transactional ? 'true' : 'false',
  ]
  return `INSERT INTO ${TRACKING_TABLE} (name, checksum, duration_ms, tier, applied_by, transactional) VALUES (${values.join(', ')})${upsertOf(replace)}`
}

/** The statement that removes a reverted migration's tracking row, for a simple-protocol message. */
export function deleteAppliedSql(name: string): string {
  return `DELETE FROM ${TRACKING_TABLE} WHERE name = ${textLiteral(name)}`
}

function upsertOf(replace: boolean): string {
  return replace
    ? ' ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = pg_catalog.clock_timestamp(), ' +
        'duration_ms = EXCLUDED.duration_ms, tier = EXCLUDED.tier, applied_by = EXCLUDED.applied_by, ' +
        'transactional = EXCLUDED.transactional'
    : ''
}

function durationOf(record: AppliedRecord): number {
  const ms = Math.round(record.durationMs)
  return Number.isFinite(ms) ? Math.min(2_147_483_647, Math.max(0, ms)) : 0
}

/** The statement that removes the tracking row of a migration reverted by `ddl migrate down`. */
export const DELETE_APPLIED = `DELETE FROM ${TRACKING_TABLE} WHERE name = $1`

/** Removes the tracking row of a reverted migration. Returns false when there was none. Rejects with node-postgres's error. */
export async function deleteApplied(client: Client, name: string): Promise<boolean> {
  const result = await client.query({ text: DELETE_APPLIED, values: [name] })
  return result.rowCount === 1
}

/** The statement that accepts a changed file, as recorded in the audit log. */
export const ACCEPT_CHECKSUM = `UPDATE ${TRACKING_TABLE} SET checksum = $1 WHERE name = $2`

/** Records a changed file's new checksum. Returns false when the row is gone. Rejects with node-postgres's error. */
export async function updateChecksum(client: Client, name: string, checksum: string): Promise<boolean> {
  const result = await client.query({ text: ACCEPT_CHECKSUM, values: [checksum, name] })
  return result.rowCount === 1
}

/**
 * The claim of a file, if any, and whether its backend is still connected: the same pid in
 * `pg_stat_activity` with the same start time (a reused pid is another backend). When the start time
 * is hidden (a session of another role, without pg_read_all_stats), the pid alone counts: a claim is
 * never taken for dead on a guess. Rejects with node-postgres's error.
 */
export async function readClaim(client: Client, name: string): Promise<ClaimRow | undefined> {
  if (!(await relationExists(client, CLAIMS_TABLE))) return undefined
  const result = await client.query<{
    name: string
    claimed_at: Date
    claimed_by: string
    backend_pid: number
    alive: boolean
  }>({
    text: `SELECT c.name, c.claimed_at, c.claimed_by, c.backend_pid,
       EXISTS (SELECT 1 FROM pg_stat_activity a
               WHERE a.pid = c.backend_pid AND (a.backend_start IS NULL OR a.backend_start = c.backend_start)) AS alive
FROM ${CLAIMS_TABLE} c WHERE c.name = $1`,
    values: [name],
  })
  const raw = result.rows[0]
  if (raw === undefined) return undefined
  return {
    name: raw.name,
    claimedAt: raw.claimed_at,
    claimedBy: raw.claimed_by,
    backendPid: raw.backend_pid,
    alive: raw.alive,
  }
}

/** Claims a file for this backend. Rejects with node-postgres's error. */
export async function insertClaim(client: Client, name: string, checksum: string, claimedBy: string): Promise<void> {
  await client.query({
    text: `INSERT INTO ${CLAIMS_TABLE} (name, checksum, claimed_by, backend_pid, backend_start)
SELECT $1, $2, $3, pg_backend_pid(), (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())`,
    values: [name, checksum, claimedBy],
  })
}

/** Removes a claim. Rejects with node-postgres's error. */
export async function deleteClaim(client: Client, name: string): Promise<void> {
  if (!(await relationExists(client, CLAIMS_TABLE))) return
  await client.query({ text: `DELETE FROM ${CLAIMS_TABLE} WHERE name = $1`, values: [name] })
}

/** Every claim (for status). Rejects with node-postgres's error. */
export async function readClaims(client: Client): Promise<ClaimRow[]> {
  if (!(await relationExists(client, CLAIMS_TABLE))) return []
  const result = await client.query<{
    name: string
    claimed_at: Date
    claimed_by: string
    backend_pid: number
    alive: boolean
  }>(`SELECT c.name, c.claimed_at, c.claimed_by, c.backend_pid,
       EXISTS (SELECT 1 FROM pg_stat_activity a
               WHERE a.pid = c.backend_pid AND (a.backend_start IS NULL OR a.backend_start = c.backend_start)) AS alive
FROM ${CLAIMS_TABLE} c ORDER BY c.name`)
  return result.rows.map((raw) => ({
    name: raw.name,
    claimedAt: raw.claimed_at,
    claimedBy: raw.claimed_by,
    backendPid: raw.backend_pid,
    alive: raw.alive,
  }))
}
