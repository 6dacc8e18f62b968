import { closeSync, linkSync, lstatSync, mkdirSync, openSync, rmdirSync, unlinkSync, utimesSync } from 'node:fs'
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

/** A held lock: `<log>.lock` as this process made it (a hard link to the anchor, or a directory). */
export interface HeldLock {
  readonly path: string
  readonly kind: 'link' | 'directory'
  readonly ino: number
  /** Changed by any link or unlink of the anchor, so a takeover shows. */
  readonly ctimeMs: number
}

/** Appends in this process wait here for each other, so they do not spin on the file lock. */
const queues = new Map<string, Promise<void>>()

/**
 * Runs `task` while holding the inter-process lock on `target`: the name `target.lock`, made
 * atomically and removed when done.
 *
 * The name is made with `link(2)`: a hard link to `target.lock-anchor`, an empty file made once
 * beside the log. `link` fails with `EEXIST` when the name exists, on every local file system, and
 * costs about 10 us here, where `mkdir` + `rmdir` (proper-lockfile's way, and earlier versions') cost
 * about 1.6 ms and creating + removing a file about 0.9 ms: both allocate an inode. On a file system
 * without hard links, the lock falls back to `mkdir`.
 *
 * Old writers (proper-lockfile) make `target.lock` as a directory: `link` fails while one exists, so a
 * new writer waits for an old one, and an old writer's `mkdir` fails while a new writer holds the
 * link, so it waits too (the new writer sets the link's mtime when it takes it, for the old writer's
 * 10 s staleness test). Either kind is taken over when older than `staleMs`: a directory by its
 * mtime, a link by its ctime (set by the `link` itself). `task` is synchronous and holds the lock for
 * one write and one fsync, so nothing needs refreshing; it learns from {@link lockStillHeld} whether
 * someone took the lock over meanwhile (a hold longer than `staleMs`: a stalled disk).
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
 * Whether `held` is still this process's lock: `<log>.lock` is the link (or directory) this process
 * made, unchanged. False when another process took it over as stale (or removed it) meanwhile.
 */
export function lockStillHeld(held: HeldLock): boolean {
  const now = lstatSync(held.path, { throwIfNoEntry: false })
  return now !== undefined && now.ino === held.ino && now.ctimeMs === held.ctimeMs
}

/** File systems without hard links, where the lock falls back to a directory. */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EMLINK'])

/** One attempt: the lock, or undefined while another live holder has it. Throws on other errors. */
function tryLock(target: string, staleMs: number): HeldLock | undefined {
  const path = `${target}.lock`
  const anchor = `${target}.lock-anchor`
  for (let attempt = 0; attempt < 4; attempt++) {
    const made = make(path, anchor)
    if (made !== undefined) return made
    const existing = lstatSync(path, { throwIfNoEntry: false })
    if (existing === undefined) continue // released meanwhile: try again
    const directory = existing.isDirectory()
    // A directory (an old writer's) is as old as its mtime; a link, as its ctime (when it was made).
    const since = directory ? existing.mtimeMs : Math.max(existing.ctimeMs, existing.mtimeMs)
    if (since >= Date.now() - staleMs) return undefined
    // Left by a dead process: remove it and try again.
    try {
      if (directory) rmdirSync(path)
      else unlinkSync(path)
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') throw error
    }
  }
  return undefined
}

/** Makes `path` (a link to `anchor`, else a directory); undefined when it exists. */
function make(path: string, anchor: string): HeldLock | undefined {
  try {
    linkSync(anchor, path)
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'EEXIST') return undefined
    if (code === 'ENOENT') {
      closeSync(openSync(anchor, 'a', 0o600)) // the first lock beside this log: make the anchor
      return make(path, anchor)
    }
    if (typeof code !== 'string' || !NO_LINKS.has(code)) throw error
    try {
      mkdirSync(path)
    } catch (inner) {
      if ((inner as { code?: unknown }).code === 'EEXIST') return undefined
      throw inner
    }
    const s = lstatSync(path)
    return { path, kind: 'directory', ino: s.ino, ctimeMs: s.ctimeMs }
  }
  // A fresh mtime, for old writers, which judge staleness by it.
  try {
    const now = new Date()
    utimesSync(path, now, now)
  } catch {
    // Not the anchor's owner (a log shared between users): old writers then see its older mtime.
  }
  const s = lstatSync(path)
  return { path, kind: 'link', ino: s.ino, ctimeMs: s.ctimeMs }
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
          `Retry; if no ddl process is running, remove the stale lock ${target}.lock (a link or a directory).`,
        settings.path,
        { code: 'ELOCKED' },
      )
    }
    await sleep(delay + Math.random() * delay)
    delay = Math.min(delay * 2, 50)
  }
}

function release(held: HeldLock): void {
  // Only our own: after a takeover it belongs to the new holder.
  if (!lockStillHeld(held)) return
  try {
    if (held.kind === 'directory') rmdirSync(held.path)
    else unlinkSync(held.path)
  } catch {
    // Gone already; nothing to release.
  }
}
