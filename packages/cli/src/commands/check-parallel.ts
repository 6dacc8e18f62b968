/**
 * `ddl check` on two threads (`DDL_CHECK_THREADS=2`): the main thread classifies the first files of
 * the run, a worker thread the rest, and the main thread reports every file in order. Not the default:
 * on 2 cores one thread already keeps V8's compiler and GC threads busy on the other core, and the
 * worker's extra work (learning the main thread's files, warming up its own JIT) cost more than it
 * saved (measured in docs/cli/check.md).
 *
 * A migrations directory is one history: each file is classified with what the files before it
 * defined (packages/classifier/src/history.ts), so the files are not independent. The worker first
 * learns the main thread's files into its own history with `learnFile` (classifying them again with
 * the run's settings, because the history holds function tiers that only the rules decide), which
 * leaves exactly the history the main thread has when it finishes them; then it classifies its own
 * files with it.
 * Every file is classified once, by one thread, from the same history as on one thread: the plans,
 * the script numbers and the end-of-run history are the same, so the output is too.
 */
import { existsSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import type { MigrationHistory } from '@ddl/classifier'
import { type CheckSettings, classifyFile, type FileInput, type Input, learnFile, type Outcome } from './check-core.js'

/** What the worker is started with. */
export interface WorkerData {
  /** The files of the run up to the end of the worker's share, in order. */
  readonly inputs: readonly FileInput[]
  /** The first file of the worker's share: the files before it are learned, not classified. */
  readonly start: number
  readonly settings: Omit<CheckSettings, 'history'>
  /** Post the history at the end (the run adds end-of-run findings from it). */
  readonly wantHistory: boolean
  /** The run reads one migrations directory from its first migration (`MigrationHistory.fromStart`). */
  readonly fromStart: boolean
}

/** What the worker posts: an outcome per file of its share in order, then `done` (or `failed`). */
export type WorkerMessage =
  | { readonly kind: 'outcome'; readonly outcome: Outcome }
  | { readonly kind: 'done'; readonly history?: MigrationHistory }
  | { readonly kind: 'failed'; readonly message: string }

/**
 * The share of the bytes the main thread classifies itself (the worker learns them first, then
 * classifies the rest): 0.5, 0.6 and 0.7 measured on the regression corpus, 0.6 the best median.
 */
const MAIN_SHARE = 0.6

/** The worker's script, beside this module (dist/commands/, or bundle/ where it is an entry of its own). */
const workerScript = new URL('./check-worker.js', import.meta.url)

/**
 * `DDL_CHECK_THREADS`: unset or `1` (one thread, the default: on 2 cores a worker did not pay, see
 * docs/cli/check.md), or `2` (a worker thread whenever there are two files or more).
 */
export function threadsSetting(env: NodeJS.ProcessEnv): Result<1 | 2> {
  const value = env.DDL_CHECK_THREADS
  if (value === undefined || value === '' || value === '1') return { ok: true, value: 1 }
  if (value === '2') return { ok: true, value: 2 }
  return { ok: false, error: `DDL_CHECK_THREADS must be 1 or 2 (or unset), not "${value}".` }
}

type Result<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string }

/**
 * Where the worker's share starts, or undefined to run on one thread: one thread asked for (the
 * default), fewer than two files, standard input among the inputs, or no worker script (running from
 * the TypeScript sources). The main thread takes the first files up to {@link MAIN_SHARE} of the bytes.
 */
export function parallelSplit(inputs: readonly Input[], threads: 1 | 2): number | undefined {
  if (threads === 1 || inputs.length < 2) return undefined
  if (inputs.some((input) => input.kind === 'stdin')) return undefined
  if (!existsSync(fileURLToPath(workerScript))) return undefined
  const sizes = (inputs as readonly FileInput[]).map((input) => {
    try {
      return statSync(input.absolute).size
    } catch {
      return 0
    }
  })
  const total = sizes.reduce((a, b) => a + b, 0)
  let bytes = 0
  for (let i = 0; i < sizes.length - 1; i++) {
    bytes += sizes[i] as number
    if (bytes >= total * MAIN_SHARE) return i + 1
  }
  return sizes.length - 1
}

/** The worker's outcomes, in order, as the main thread asks for them. */
export interface WorkerShare {
  /** The outcome of the next file of the share (classified here if the worker failed). */
  next(): Promise<Outcome>
  /** After the last outcome: the history at the end of the run. */
  history(): Promise<MigrationHistory>
}

/**
 * Starts the worker on `inputs[start..]`. `history` is the main thread's: it classifies
 * `inputs[..start)` with it before asking for the worker's outcomes. Should the worker fail, the main
 * thread learns what the worker had classified and classifies the rest itself: the output is the same.
 * `script` is the worker's script (tests pass one that fails).
 */
export function startWorker(
  inputs: readonly FileInput[],
  start: number,
  settings: Omit<CheckSettings, 'history'>,
  wantHistory: boolean,
  history: MigrationHistory,
  script: URL = workerScript,
): WorkerShare {
  const data: WorkerData = { inputs, start, settings, wantHistory, fromStart: history.fromStart }
  const queue: WorkerMessage[] = []
  let waiting: (() => void) | undefined
  let finished = false
  const wake = () => {
    const w = waiting
    waiting = undefined
    w?.()
  }
  const worker = new Worker(script, { workerData: data })
  worker.on('message', (message: WorkerMessage) => {
    if (message.kind !== 'outcome') finished = true
    queue.push(message)
    wake()
  })
  const stop = (message: string) => {
    if (finished) return
    finished = true
    queue.push({ kind: 'failed', message })
    wake()
  }
  worker.on('error', (error) => stop(error.message))
  worker.on('exit', (code) => stop(`the worker exited with code ${code}`))

  let received = start
  let failed = false
  let final: MigrationHistory | undefined
  const take = async (): Promise<WorkerMessage> => {
    while (queue.length === 0) await new Promise<void>((resolve) => (waiting = resolve))
    return queue.shift() as WorkerMessage
  }
  const fallBack = () => {
    failed = true
    void worker.terminate()
    // The main thread's history stands where the worker's share starts: catch up on what it classified.
    for (let i = start; i < received; i++) learnFile(inputs[i] as FileInput, settings, history)
  }
  return {
    async next() {
      if (!failed) {
        const message = await take()
        if (message.kind === 'outcome') {
          received++
          return message.outcome
        }
        if (message.kind === 'done') final = message.history
        fallBack()
      }
      const input = inputs[received++] as FileInput
      return classifyFile(input, settings, history)
    },
    async history() {
      if (!failed) {
        const message = await take()
        if (message.kind === 'done') final = message.history
        else fallBack()
      }
      finished = true
      return failed ? history : (final ?? history)
    },
  }
}
