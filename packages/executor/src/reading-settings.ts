/**
 * The settings that decide how the server reads SQL text, pinned to what the classifier assumes,
 * and the trigger guard (`session_replication_role`) put back to what every check assumes.
 *
 * The classifier reads every string as Postgres does with `standard_conforming_strings = on` and a
 * UTF-8 client. A session can start with other values that no gated statement set: `options=-c
 * standard_conforming_strings=off` in the connection string (an agent can write `.env`), `PGOPTIONS`,
 * or an `ALTER DATABASE/ROLE ... SET` made long ago. Then `SELECT 'a\'' , pg_read_file(...) -- '` is
 * one string to the classifier and a call to the server. `DISCARD ALL` resets a session to those
 * start values, so the pin is set again in every transaction (and for every statement run alone),
 * never once per connection.
 */

/** `setting = value` pairs, constants only: no caller text reaches this SQL. */
const PINS = [
  ['standard_conforming_strings', 'on'],
  ['client_encoding', 'UTF8'],
] as const

/**
 * `session_replication_role` back to `origin` when the session started elsewhere (`options=-c
 * session_replication_role=replica`, or an `ALTER DATABASE ... SET` an earlier run made): in replica
 * mode no ordinary trigger fires, foreign keys included, so a DELETE Postgres would refuse leaves
 * orphans and every audit trigger is silent. Only set when it differs: a role that may not set it
 * (not a superuser) then fails at BEGIN, closed, instead of running with triggers off.
 */
function replicationRoleCall(local: boolean): string {
  return (
    "CASE WHEN pg_catalog.current_setting('session_replication_role') <> 'origin' " +
    `THEN pg_catalog.set_config('session_replication_role', 'origin', ${local}) END`
  )
}

/** `SET LOCAL ...` statements (for a simple-protocol round trip that already began a transaction). */
export const PIN_READING_LOCAL = [
  ...PINS.map(([name, value]) => `SET LOCAL ${name} = '${value}'`),
  `SELECT ${replicationRoleCall(true)}`,
].join('; ')

/** `set_config(...)` calls for a `SELECT` list: `local` for the transaction, else for the session. */
export function pinReadingCalls(local: boolean): string {
  return [
    ...PINS.map(([name, value]) => `pg_catalog.set_config('${name}', '${value}', ${local})`),
    replicationRoleCall(local),
  ].join(', ')
}
