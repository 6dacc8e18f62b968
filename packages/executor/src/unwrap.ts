import type { Result } from 'neverthrow'

/**
 * The value of a `Result` or `ResultAsync`, or a throw of its error: the thin throwing wrapper for
 * scripts, as they like to throw. The error thrown is the tagged error itself (`SafetyError`,
 * `PostgresError`, ...), so `instanceof` and `kind` work in `catch`. Library code should stay with
 * Results.
 *
 * @example
 * try {
 *   await unwrap(db.execute('DROP TABLE users'))
 * } catch (e) {
 *   if (e instanceof SafetyError) console.log(e.message) // "Destructive operation blocked: DROP TABLE users" ...
 * }
 */
export async function unwrap<T, E>(result: Result<T, E> | PromiseLike<Result<T, E>>): Promise<T> {
  const settled = await result
  if (settled.isOk()) return settled.value
  throw settled.error
}
