import { randomBytes } from 'node:crypto'
import type { Session } from '../session.js'
import { UndoError } from './undo-error.js'

/** The private schema that holds kept copies and the catalog. Others rely on this exact name. */
export const UNDO_SCHEMA = 'ddl_undo'

/** The catalog of kept runs: one row per run that kept something. */
export const UNDO_CATALOG = 'ddl_undo.runs'

/** A SQL identifier, double-quoted. Never throws. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

/** `"schema"."name"`. Never throws. */
export function qualify(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`
}

/** A SQL string literal. Never throws. */
export function quoteLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`
}

/** A fresh undo id: `u` and 12 hex digits, safe as part of an identifier. Never throws. */
export function newUndoId(): string {
  return `u${randomBytes(6).toString('hex')}`
}

/** True when `text` has the shape of an undo id. */
export function isUndoId(text: string): boolean {
  return /^u[0-9a-f]{12}$/.test(text)
}

/** Runs one of the engine's own queries (parameters bound) and returns its rows. Throws the driver's error. */
export async function rows<R>(session: Session, text: string, values: readonly unknown[] = []): Promise<R[]> {
  const result = await session.client.query({ text, values: [...values] })
  return result.rows as R[]
}

const CREATE_STORE = `
CREATE SCHEMA IF NOT EXISTS ddl_undo;
REVOKE ALL ON SCHEMA ddl_undo FROM PUBLIC;
COMMENT ON SCHEMA ddl_undo IS 'safe-ddl: what runs removed, kept for ddl undo (see docs/undo.md). Do not edit by hand.';
CREATE TABLE IF NOT EXISTS ddl_undo.runs (
  id text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
  actor text,
  project text NOT NULL,
  statements jsonb NOT NULL,
  objects jsonb NOT NULL,
  row_counts jsonb NOT NULL,
  size_bytes bigint NOT NULL,
  audit_ids jsonb NOT NULL,
  items jsonb NOT NULL,
  not_kept jsonb NOT NULL DEFAULT '[]',
  restored_at timestamptz
);
CREATE OR REPLACE FUNCTION ddl_undo.keep_rows() RETURNS trigger LANGUAGE plpgsql AS $keep$
BEGIN
  IF TG_ARGV[0] <> '' THEN
    EXECUTE pg_catalog.format('INSERT INTO ddl_undo.%I SELECT * FROM ddl_undo_old', TG_ARGV[0]);
  END IF;
  IF TG_ARGV[1] <> '' THEN
    EXECUTE pg_catalog.format('INSERT INTO ddl_undo.%I SELECT * FROM ddl_undo_new', TG_ARGV[1]);
  END IF;
  RETURN NULL;
END
$keep$;
`

/** Advisory lock key under which the store is created (once per database). */
const STORE_LOCK = 0x64646c75 // "ddlu"

/**
 * Creates the `ddl_undo` schema, its catalog and its trigger function when missing, in the caller's
 * transaction (so they commit or roll back with the run). Throws the driver's error.
 */
export async function ensureStore(session: Session): Promise<void> {
  const found = await rows<{ ready: boolean }>(
    session,
    "SELECT pg_catalog.to_regclass('ddl_undo.runs') IS NOT NULL AND pg_catalog.to_regprocedure('ddl_undo.keep_rows()') IS NOT NULL AS ready",
  )
  if (found[0]?.ready !== true) {
    await rows(session, 'SELECT pg_catalog.pg_advisory_xact_lock($1)', [STORE_LOCK])
    await session.client.query(CREATE_STORE)
  }
  // The capture triggers run ddl_undo.keep_rows() with the caller's rights: a schema or function
  // planted by a role the caller does not belong to would run its code as the caller. Refuse it.
  const owners = await rows<{ trusted: boolean }>(
    session,
    `SELECT pg_catalog.pg_has_role(current_user, n.nspowner, 'USAGE')
        AND pg_catalog.pg_has_role(current_user, p.proowner, 'USAGE') AS trusted
       FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_proc p ON p.pronamespace = n.oid
      WHERE n.nspname = 'ddl_undo' AND p.oid = pg_catalog.to_regprocedure('ddl_undo.keep_rows()')`,
  )
  if (owners[0]?.trusted !== true) {
    throw new UndoError(
      'Undo cannot keep anything here: the ddl_undo schema or its ddl_undo.keep_rows() function belongs to a role ' +
        'this connection is not a member of. Nothing was changed (the run was rolled back). Have its owner drop ' +
        'or hand over the schema, or pass noUndo (--no-undo) to run without a kept copy.',
      'cannot-keep',
    )
  }
}

/** True when the store exists (for list, purge and undo, which never create it). Throws the driver's error. */
export async function storeExists(session: Session): Promise<boolean> {
  const found = await rows<{ ready: boolean }>(
    session,
    "SELECT pg_catalog.to_regclass('ddl_undo.runs') IS NOT NULL AS ready",
  )
  return found[0]?.ready === true
}
