/**
 * The worker thread of `ddl check` (see check-parallel.ts): learns the files before its share into a
 * fresh history (classifying them with the run's settings), then classifies its share with that
 * history, posting one {@link Outcome} per file in order, and the history itself at the end when the
 * run needs it for its end-of-run findings.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { init, newMigrationHistory } from '@ddl/classifier'
import { classifyFile, type FileInput, learnFile } from './check-core.js'
import type { WorkerData, WorkerMessage } from './check-parallel.js'

const port = parentPort
if (port === null) throw new Error('check-worker.ts runs as a worker thread of ddl check only')
const data = workerData as WorkerData
const post = (message: WorkerMessage) => port.postMessage(message)

try {
  await init()
  const history = newMigrationHistory({ fromStart: data.fromStart })
  const files: readonly FileInput[] = data.inputs
  for (let i = 0; i < data.start; i++) learnFile(files[i] as FileInput, data.settings, history)
  for (let i = data.start; i < files.length; i++) {
    post({ kind: 'outcome', outcome: classifyFile(files[i] as FileInput, data.settings, history) })
  }
  post({ kind: 'done', ...(data.wantHistory ? { history } : {}) })
} catch (error) {
  post({ kind: 'failed', message: error instanceof Error ? error.message : String(error) })
}
