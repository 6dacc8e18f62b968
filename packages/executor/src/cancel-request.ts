import { connect } from 'node:net'
import type pg from 'pg'

/** The protocol's CancelRequest code (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102

/**
 * Asks the server to cancel the query a connection is running, as psql does on Ctrl-C: a
 * CancelRequest with the connection's process id and secret key, on a new socket. The key comes
 * from the connection's own startup, so through PgBouncer or Supavisor the pooler routes it to the
 * right server connection (`pg_cancel_backend(pid)` could reach an unrelated session there). The
 * request is sent in plain text, as libpq's PQcancel sends it; it carries no password. A connection
 * that is idle ignores it. Resolves once the request was sent, or could not be (at most ~5 s).
 * Never rejects.
 */
export function sendCancelRequest(client: pg.ClientBase): Promise<void> {
  const { processID, secretKey, host, port } = client as unknown as {
    readonly processID?: unknown
    readonly secretKey?: unknown
    readonly host?: unknown
    readonly port?: unknown
  }
  if (typeof processID !== 'number' || typeof secretKey !== 'number') return Promise.resolve()
  if (typeof host !== 'string' || typeof port !== 'number') return Promise.resolve()
  return new Promise((resolve) => {
    const socket = host.startsWith('/') ? connect(`${host}/.s.PGSQL.${port}`) : connect(port, host)
    const done = () => {
      socket.destroy()
      resolve()
    }
    socket.setTimeout(5000, done)
    socket.on('error', done)
    socket.on('close', done)
    socket.on('connect', () => {
      const message = Buffer.alloc(16)
      message.writeInt32BE(16, 0)
      message.writeInt32BE(CANCEL_REQUEST_CODE, 4)
      message.writeInt32BE(processID, 8)
      message.writeInt32BE(secretKey, 12)
      socket.end(message)
    })
  })
}

/**
 * Runs `work` on `client`; when `signal` aborts (before or during), cancels the query the connection
 * is running, and again every second until `work` settles, since a cancel that reaches the server
 * between two statements is ignored. What a cancelled query does to `work` (an error, 57014) is for
 * `work` to handle. Rejects only if `work` does.
 */
export async function cancelOnAbort<T>(
  client: pg.ClientBase,
  signal: AbortSignal | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (signal === undefined) return work()
  let timer: NodeJS.Timeout | undefined
  const onAbort = () => {
    void sendCancelRequest(client)
    timer ??= setInterval(() => void sendCancelRequest(client), 1000)
  }
  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await work()
  } finally {
    signal.removeEventListener('abort', onAbort)
    if (timer !== undefined) clearInterval(timer)
  }
}
