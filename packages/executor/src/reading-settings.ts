/**
 * The settings that decide how the server reads SQL text, pinned to what the classifier assumes.
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

/** `SET LOCAL ...` statements (for a simple-protocol round trip that already began a transaction). */
export const PIN_READING_LOCAL = PINS.map(([name, value]) => `SET LOCAL ${name} = '${value}'`).join('; ')

/** `set_config(...)` calls for a `SELECT` list: `local` for the transaction, else for the session. */
export function pinReadingCalls(local: boolean): string {
  return PINS.map(([name, value]) => `pg_catalog.set_config('${name}', '${value}', ${local})`).join(', ')
}
