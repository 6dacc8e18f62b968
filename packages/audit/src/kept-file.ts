import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, realpathSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import { type HeadNote, writeHead } from './head-file.js'

/**
 * The file as an append left it, with that append's last hash and seq. When the file (size, mtime
 * and ctime to the nanosecond) is still exactly so under the lock, nobody wrote it since, and its
 * last line is known without reading it.
 */
export interface KnownTail {
  readonly size: bigint
  readonly mtimeNs: bigint
  readonly ctimeNs: bigint
  readonly hash: string
  readonly seq: number
}

/** An audit log file this process keeps open between appends. */
export interface KeptFile {
  /** Opened with `O_APPEND`, mode 0600 when made. */
  readonly fd: number
  readonly dev: number
  readonly ino: number
  /** The real path of the file's directory, where the lock is taken. */
  readonly realDirectory: string
  known: KnownTail | undefined
  /** Appends using it now: it is not closed while any does. */
  busy: number
  closed: boolean
  /**
   * Records written with `flush: 'with-next'` and not fsynced yet: the head they reach, and the log
   * path to note it beside. Cleared by the next fsync of this descriptor.
   */
  unflushed: { readonly logPath: string; readonly note: HeadNote } | undefined
}

/** Open descriptors are kept for this many log paths at most (least recently used closed first). */
const MAX_KEPT = 8
const kept = new Map<string, KeptFile>()

/** What {@link keptFile} found at the path instead of a regular file. */
export type NotAFile = { readonly notAFile: true; readonly directory: boolean }

/**
 * The kept descriptor for the log at `path` (absolute), opened (and its directory made, mode 0700)
 * when this process has none, or when the path no longer names the file it has open (moved aside,
 * deleted, replaced). Synchronous: a few system calls, no thread-pool round trips. Throws the
 * system's error when the file cannot be opened; a device, pipe or directory is reported, not kept.
 * The caller must hand the file back with {@link releaseKept} when its append is done.
 */
export function keptFile(path: string): KeptFile | NotAFile {
  const existing = kept.get(path)
  if (existing !== undefined) {
    const now = statSync(path, { throwIfNoEntry: false })
    if (now !== undefined && now.ino === existing.ino && now.dev === existing.dev) {
      kept.delete(path)
      kept.set(path, existing) // most recently used last
      existing.busy++
      return existing
    }
    forget(path, existing)
  }
  const fd = openCreating(path)
  let file: KeptFile
  try {
    const stats = fstatSync(fd)
    if (!stats.isFile()) {
      closeSync(fd)
      return { notAFile: true, directory: stats.isDirectory() }
    }
    file = {
      fd,
      dev: stats.dev,
      ino: stats.ino,
      realDirectory: realpathSync(dirname(path)),
      known: undefined,
      busy: 1,
      closed: false,
      unflushed: undefined,
    }
  } catch (error) {
    closeSync(fd)
    throw error
  }
  kept.set(path, file)
  evict()
  return file
}

/** Closes every kept descriptor (for tests and for processes that want them gone). */
export function closeKeptFiles(): void {
  for (const [path, file] of [...kept]) forget(path, file)
}

function forget(path: string, file: KeptFile): void {
  if (kept.get(path) === file) kept.delete(path)
  if (file.busy > 0) return // closed by the last user (see release)
  close(file)
}

/** Called by an append when it is done with `file`. */
export function releaseKept(file: KeptFile): void {
  file.busy--
  if (file.busy === 0 && !file.closed && ![...kept.values()].includes(file)) close(file)
}

/**
 * Makes records written with `flush: 'with-next'` durable: fsync, then the head note. Throws the
 * system's error when the fsync fails (the records stay unflushed). A note that cannot be written
 * only lags (verify accepts that).
 */
export function flushKept(file: KeptFile): void {
  const pending = file.unflushed
  if (pending === undefined || file.closed) return
  fsyncSync(file.fd)
  file.unflushed = undefined
  try {
    // Only beside this very file: a log moved aside and begun anew at the path has its own note.
    const now = statSync(pending.logPath, { throwIfNoEntry: false })
    if (now !== undefined && now.ino === file.ino && now.dev === file.dev) writeHead(pending.logPath, pending.note)
  } catch {
    // Lags; verify accepts a note behind the log.
  }
}

/** The kept descriptor of `path` when this process has one open (no system call). */
export function keptIfOpen(path: string): KeptFile | undefined {
  return kept.get(path)
}

let exitHooked = false

/**
 * Records the unflushed head and, once per process, flushes every kept file at exit (`process.on('exit')`
 * runs synchronous code only: fsync and the note are synchronous).
 */
export function markUnflushed(file: KeptFile, logPath: string, note: HeadNote): void {
  file.unflushed = { logPath, note }
  if (exitHooked) return
  exitHooked = true
  process.on('exit', () => {
    for (const f of [...kept.values()]) {
      try {
        flushKept(f)
      } catch {
        // Nothing more can be done at exit; the records are in the file, not yet on disk.
      }
    }
  })
}

function close(file: KeptFile): void {
  if (file.closed) return
  try {
    flushKept(file)
  } catch {
    // The records are written; only their fsync failed. Closing cannot do better.
  }
  file.closed = true
  try {
    closeSync(file.fd)
  } catch {
    // Already closed: nothing to do.
  }
}

function evict(): void {
  for (const [path, file] of kept) {
    if (kept.size <= MAX_KEPT) return
    if (file.busy === 0) forget(path, file)
  }
}

/** Opens for appending, making the directory (0700) when missing; a parent that is a file is ENOTDIR. */
function openCreating(path: string): number {
  try {
    return openSync(path, 'a+', 0o600)
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error
  }
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  } catch (error) {
    const code = (error as { code?: unknown }).code
    throw code === 'EEXIST' ? Object.assign(new Error('a parent is a file'), { code: 'ENOTDIR', cause: error }) : error
  }
  return openSync(path, 'a+', 0o600)
}
