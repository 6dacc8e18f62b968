import type { Io } from './io.js'

/** Exit codes after a signal, as shells report them (128 + the signal's number). */
export const SIGNAL_EXIT: Readonly<Record<'SIGINT' | 'SIGTERM', number>> = { SIGINT: 130, SIGTERM: 143 }

/** What {@link whileInterruptible} passes its work. */
export interface Interruption {
  /** Aborts on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal
  /** The signal received, if any. */
  readonly received: () => keyof typeof SIGNAL_EXIT | undefined
}

/**
 * Runs `work` with SIGINT and SIGTERM turned into an abort of `signal`, so that work in flight can
 * stop cleanly (cancel the running statement, roll back, write the audit outcome) instead of the
 * process dying mid-file. A second signal exits at once: the server rolls back an open transaction
 * when its connection closes. The handlers are removed when `work` settles.
 */
export async function whileInterruptible<T>(
  io: Io,
  command: string,
  stopping: string,
  work: (interruption: Interruption) => Promise<T>,
): Promise<T> {
  const controller = new AbortController()
  let received: keyof typeof SIGNAL_EXIT | undefined
  const onSignal = (signal: keyof typeof SIGNAL_EXIT) => {
    if (received !== undefined) {
      io.stderr(
        `ddl ${command}: ${signal} again: exiting now; the server rolls back the open transaction when the connection closes.\n`,
      )
      process.exit(SIGNAL_EXIT[signal])
    }
    received = signal
    io.stderr(`\nddl ${command}: ${signal}: ${stopping} (press Ctrl-C again to exit at once) ...\n`)
    controller.abort()
  }
  const signals = Object.keys(SIGNAL_EXIT) as (keyof typeof SIGNAL_EXIT)[]
  for (const signal of signals) process.on(signal, onSignal)
  try {
    return await work({ signal: controller.signal, received: () => received })
  } finally {
    for (const signal of signals) process.off(signal, onSignal)
  }
}
