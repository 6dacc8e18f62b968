import { setTimeout as sleep } from 'node:timers/promises'
import lockfile from 'proper-lockfile'
import { AuditError } from './audit-error.js'

/** What the holder of a lock learns while it holds it. */
export interface LockState {
  /** Set when the lock was lost (its directory removed or taken over as stale) while held. */
  compromised: Error | undefined
}

/** How a lock is taken. */
export interface LockSettings {
  /** Give up after this long (ms) waiting for other holders. */
  readonly timeoutMs: number
  /** A lock not refreshed for this long (ms) belongs to a dead process and is taken over. */
  readonly staleMs: number
  /** The log path, for messages. */
  readonly path: string
}

/** Appends in this process wait here for each other, so they do not spin on the file lock. */
const queues = new Map<string, Promise<void>>()

/**
 * Runs `task` while holding the inter-process lock on `target` (a `target.lock` directory made by
 * proper-lockfile: `mkdir` is atomic on every local file system, and a holder that dies leaves a
 * lock that goes stale instead of one that blocks forever). Calls in the same process queue first.
 */
export async function withFileLock<T>(
  target: string,
  settings: LockSettings,
  task: (state: LockState) => Promise<T>,
): Promise<T> {
  const previous = queues.get(target) ?? Promise.resolve()
  let done: () => void = () => undefined
  const mine = new Promise<void>((resolve) => {
    done = resolve
  })
  const tail = previous.then(() => mine)
  queues.set(target, tail)
  await previous
  try {
    const state: LockState = { compromised: undefined }
    const release = await acquire(target, settings, state)
    try {
      return await task(state)
    } finally {
      await release().catch(() => undefined)
    }
  } finally {
    done()
    if (queues.get(target) === tail) queues.delete(target)
  }
}

async function acquire(target: string, settings: LockSettings, state: LockState): Promise<() => Promise<void>> {
  const deadline = Date.now() + settings.timeoutMs
  let delay = 2
  for (;;) {
    try {
      return await lockfile.lock(target, {
        realpath: false,
        stale: settings.staleMs,
        retries: 0,
        onCompromised: (error: Error) => {
          state.compromised = error
        },
      })
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ELOCKED') throw error
      if (Date.now() >= deadline) {
        throw new AuditError(
          `the audit log ${settings.path} stayed locked by another process for ${settings.timeoutMs} ms. ` +
            `Retry; if no ddl process is running, remove the stale lock directory ${target}.lock.`,
          settings.path,
          { cause: error, code: 'ELOCKED' },
        )
      }
      await sleep(delay + Math.random() * delay)
      delay = Math.min(delay * 2, 50)
    }
  }
}
