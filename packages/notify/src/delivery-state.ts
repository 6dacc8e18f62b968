import { randomBytes } from 'node:crypto'
import { open, readFile, rename, unlink } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import lockfile from 'proper-lockfile'
import { NotifyError } from './notify-error.js'
import type { NotifyEvent } from './notify-event.js'

/** Where the notifier stands in the audit log: the last record it read. */
export interface Cursor {
  readonly seq: number
  readonly hash: string
  /** The byte offset just after that record's line. */
  readonly offset: number
}

/** One event owed to one sink. */
export interface Delivery {
  /** `<event id>@<sink id>`. */
  readonly key: string
  readonly sink: string
  /** The sink's kind and host (safe to print). */
  readonly sinkLabel: string
  readonly event: NotifyEvent
  readonly attempts: number
  /** `pending` is retried by the next command; `failed` gave up after the last attempt (`ddl notify --retry` tries again). */
  readonly state: 'pending' | 'failed'
  readonly nextAttemptAt: string
  readonly lastError?: string
  /** A process is sending it until then. */
  readonly claimedUntil?: string
}

/** The file `<audit log>.notify.json`: the cursor, the deliveries owed, and a count of those done. */
export interface DeliveryState {
  readonly v: 1
  readonly cursor?: Cursor
  readonly deliveries: readonly Delivery[]
  readonly delivered: number
  readonly lastDeliveredAt?: string
  /** Things a person should know (the audit log changed under the notifier, ...). The last 20. */
  readonly notes: readonly string[]
}

const EMPTY: DeliveryState = { v: 1, deliveries: [], delivered: 0, notes: [] }

/** The delivery state's path for an audit log. */
export function statePath(auditPath: string): string {
  return `${auditPath}.notify.json`
}

/** Reads the state; a missing file is an empty state (with no cursor). */
export async function readState(path: string): Promise<DeliveryState> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY
    throw new NotifyError(`The notification state ${path} cannot be read: ${(error as Error).message}`, 'state', {
      cause: error,
    })
  }
  try {
    const parsed = JSON.parse(text) as DeliveryState
    if (parsed.v !== 1 || !Array.isArray(parsed.deliveries)) throw new Error('unknown format')
    return { ...EMPTY, ...parsed }
  } catch (error) {
    throw new NotifyError(
      `The notification state ${path} is damaged (${(error as Error).message}); move it aside to start again.`,
      'state',
      { cause: error },
    )
  }
}

/** Writes the state atomically: a private temporary file, fsync, rename over the old one. */
export async function writeState(path: string, state: DeliveryState): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const handle = await open(temp, 'w', 0o600)
  try {
    await handle.writeFile(`${JSON.stringify(state, null, 1)}\n`, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await rename(temp, path)
  } catch (error) {
    await unlink(temp).catch(() => undefined)
    throw error
  }
}

/**
 * Runs `task` holding the state's lock (`<state>.lock`, proper-lockfile). Waits at most `waitMs`
 * for another process: notifications never hold up a run, so a busy lock is an error the caller
 * logs, and the next command picks the work up.
 */
export async function withStateLock<T>(path: string, waitMs: number, task: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs
  let delay = 5
  let release: (() => Promise<void>) | undefined
  for (;;) {
    try {
      release = await lockfile.lock(path, { realpath: false, stale: 10_000, retries: 0 })
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
        throw new NotifyError(`The notification state ${path} cannot be locked: ${(error as Error).message}`, 'state', {
          cause: error,
        })
      }
      if (Date.now() >= deadline) {
        throw new NotifyError(
          `The notification state ${path} is busy (another ddl process is delivering); the next command will deliver.`,
          'locked',
        )
      }
      await sleep(delay)
      delay = Math.min(delay * 2, 100)
    }
  }
  try {
    return await task()
  } finally {
    await release().catch(() => undefined)
  }
}
