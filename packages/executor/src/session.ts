import type pg from 'pg'

/**
 * One checked-out connection and what is known about its state. A transaction keeps one session
 * from BEGIN to COMMIT; {@link releaseSession} gives it back in `finally`.
 */
export interface Session {
  readonly client: pg.PoolClient
  /** The connection failed or its transaction state is unknown: destroy it instead of reusing it. */
  broken: boolean
  /** Session state may have changed (SET outside a transaction, a user's SET): reset it before reuse. */
  dirty: boolean
}

/** Wraps a checked-out client. Never throws. */
export function openSession(client: pg.PoolClient): Session {
  return { client, broken: false, dirty: false }
}

/**
 * Returns the connection to the pool: destroyed when broken, `DISCARD ALL` first when dirty (so no
 * `SET`, role or temporary table of one call leaks into the next), destroyed if that fails. Never rejects.
 */
export async function releaseSession(session: Session): Promise<void> {
  if (session.broken) {
    session.client.release(true)
    return
  }
  if (session.dirty) {
    try {
      await session.client.query('DISCARD ALL')
    } catch {
      session.client.release(true)
      return
    }
  }
  session.client.release()
}
