import { mkdirSync, rmdirSync, statSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { AuditError } from './audit-error.js'

/** How a lock is taken. */
export interface LockSettings {
  /** Give up after this long (ms) waiting for other holders. */
  readonly timeoutMs: number
  /** A lock directory whose mtime is older than this (ms) belongs to a dead process and is taken over. */
  readonly staleMs: number
  /** The log path, for messages. */
  readonly path: string
}

/** A held lock: the directory this process made, as it was when made. */
export interface HeldLock {
  readonly directory: string
  readonly ino: number
  readonly mtimeMs: number
}

/** Appends in this process wait here for each other, so they do not spin on the file lock. */
const queues = new Map<string, Promise<void>>()

/**
 * Runs `task` while holding the inter-process lock on `target`: the directory `target.lock`, made with
 * one synchronous `mkdir` (atomic on every local file system) and removed with one `rmdir`.
 *
 * This is the on-disk protocol of proper-lockfile, which earlier versions used, so old and new
 * writers exclude each other: both make the same directory, and both take over a lock directory whose
 * mtime is more than `staleMs` old (a holder that died). proper-lockfile refreshed the mtime from a
 * timer while it held the lock; here `task` is synchronous and holds the lock for one write and one
 * fsync, so there is nothing to refresh, and `task` learns afterwards, from {@link lockStillHeld},
 * whether someone took the lock over meanwhile (a hold longer than `staleMs`: a stalled disk).
 *
 * Only waiting is asynchronous: while another process holds the lock, this one sleeps between tries
 * (2 ms doubling to 50 ms) and fails with `ELOCKED` after `timeoutMs`. Calls in the same process
 * queue in memory first.
 */
export async function withFileLock<T>(target: string, settings: LockSettings, task: (lock: HeldLock) => T): Promise<T> {
  const previous = queues.get(target)
  // The common case, nobody queued here: try at once, without yielding to the event loop.
  if (previous === undefined) {
    const held = tryLock(target, settings.staleMs)
    if (held !== undefined) return runHolding(held, task)
  }
  let done: () => void = () => undefined
  const mine = new Promise<void>((resolve) => {
    done = resolve
  })
  const tail = (previous ?? Promise.resolve()).then(() => mine)
  queues.set(target, tail)
  try {
    await previous
    return runHolding(await acquire(target, settings), task)
  } finally {
    done()
    if (queues.get(target) === tail) queues.delete(target)
  }
}

function runHolding<T>(held: HeldLock, task: (lock: HeldLock) => T): T {
  try {
    return task(held)
  } finally {
    release(held)
  }
}

/**
 * Whether `held` is still this process's lock: its directory is the one this process made, with the
 * mtime it had. False when another process took it over as stale (or removed it) meanwhile.
 */
export function lockStillHeld(held: HeldLock): boolean {
  const now = statSync(held.directory, { throwIfNoEntry: false })
  return now !== undefined && now.ino === held.ino && now.mtimeMs === held.mtimeMs
}

/** One attempt: the lock, or undefined while another live holder has it. Throws on other errors. */
function tryLock(target: string, staleMs: number): HeldLock | undefined {
  const directory = `${target}.lock`
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      mkdirSync(directory)
      const made = statSync(directory)
      return { directory, ino: made.ino, mtimeMs: made.mtimeMs }
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'EEXIST') throw error
    }
    const existing = statSync(directory, { throwIfNoEntry: false })
    if (existing === undefined) continue // released meanwhile: try again
    if (existing.mtimeMs >= Date.now() - staleMs) return undefined
    // Left by a dead process (as proper-lockfile decides it): remove it and try again.
    try {
      rmdirSync(directory)
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error
    }
  }
  return undefined
}

async function acquire(target: string, settings: LockSettings): Promise<HeldLock> {
  const deadline = Date.now() + settings.timeoutMs
  let delay = 2
  for (;;) {
    const held = tryLock(target, settings.staleMs)
    if (held !== undefined) return held
    if (Date.now() >= deadline) {
      throw new AuditError(
        `the audit log ${settings.path} stayed locked by another process for ${settings.timeoutMs} ms. ` +
          `Retry; if no ddl process is running, remove the stale lock directory ${target}.lock.`,
        settings.path,
        { code: 'ELOCKED' },
      )
    }
    await sleep(delay + Math.random() * delay)
    delay = Math.min(delay * 2, 50)
  }
}

function release(held: HeldLock): void {
  // Only our own directory: after a takeover it belongs to the new holder.
  if (!lockStillHeld(held)) return
  try {
    rmdirSync(held.directory)
  } catch {
    // Gone already; nothing to release.
  }
}
