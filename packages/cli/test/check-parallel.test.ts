/**
 * The worker share of `ddl check` (check-parallel.ts) when the worker thread fails: at once, or after
 * some of its files. The main thread must catch up on the history and classify the rest itself, so
 * the outcomes and the end-of-run history are those of one thread. Real worker threads running small
 * scripts that fail; real files.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { init, type MigrationHistory, newMigrationHistory } from '@ddl/classifier'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { classifyFile, type FileInput, type Outcome } from '../src/commands/check-core.js'
import { startWorker } from '../src/commands/check-parallel.js'

const dir = mkdtempSync(join(tmpdir(), 'ddl-check-parallel-'))
const texts = [
  'CREATE TABLE a (c varchar(100), d int);',
  'CREATE TABLE b (e int); ALTER TABLE a ADD COLUMN f text;',
  'ALTER TABLE a ALTER COLUMN c TYPE varchar(10);',
  'ALTER TABLE b RENAME COLUMN e TO g; DROP TABLE a;',
  'ALTER TABLE b ALTER COLUMN g TYPE bigint; DELETE FROM b;',
  'CREATE TABLE a (c int); ALTER TABLE a ALTER COLUMN c TYPE smallint;',
]
const inputs: FileInput[] = texts.map((text, i) => {
  const path = join(dir, 'migrations', `${i}.sql`)
  mkdirSync(join(dir, 'migrations'), { recursive: true })
  writeFileSync(path, text)
  return { kind: 'file', absolute: path, path: `migrations/${i}.sql`, uri: `migrations/${i}.sql` }
})
const settings = { pgVersion: undefined }

/** A worker script: exits at once, or posts the outcome of its first file and then throws. */
function script(name: string, body: string): URL {
  const path = join(dir, `${name}.mjs`)
  writeFileSync(path, body)
  return pathToFileURL(path)
}
const core = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'commands', 'check-core.js')).href
const classifier = pathToFileURL(join(import.meta.dirname, '..', '..', 'classifier', 'dist', 'index.js')).href
const exitsAtOnce = script('exits', 'process.exit(3)\n')
const failsAfterOne = script(
  'fails-after-one',
  `import { parentPort, workerData } from 'node:worker_threads'
import { init, newMigrationHistory } from ${JSON.stringify(classifier)}
import { classifyFile, learnFile } from ${JSON.stringify(core)}
await init()
const history = newMigrationHistory()
for (let i = 0; i < workerData.start; i++) learnFile(workerData.inputs[i], workerData.settings, history)
const outcome = classifyFile(workerData.inputs[workerData.start], workerData.settings, history)
parentPort.postMessage({ kind: 'outcome', outcome })
throw new Error('the worker broke')
`,
)

const snapshot = (h: MigrationHistory) =>
  JSON.stringify(h, (_key, value: unknown) =>
    value instanceof Map ? [...value] : value instanceof Set ? [...value] : value,
  )

let expected: Outcome[] = []
let expectedHistory = ''

beforeAll(async () => {
  await init()
  const history = newMigrationHistory()
  expected = inputs.map((input) => classifyFile(input, settings, history))
  expectedHistory = snapshot(history)
})

afterAll(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('the worker share of ddl check', () => {
  for (const [name, url] of [
    ['exits at once', exitsAtOnce],
    ['fails after its first file', failsAfterOne],
  ] as const) {
    it(`gives the outcomes and history of one thread when the worker ${name}`, async () => {
      const start = 2
      const history = newMigrationHistory()
      const outcomes: Outcome[] = []
      for (let i = 0; i < start; i++) outcomes.push(classifyFile(inputs[i] as FileInput, settings, history))
      const share = startWorker(inputs, start, settings, true, history, url)
      for (let i = start; i < inputs.length; i++) outcomes.push(await share.next())
      const final = await share.history()
      expect(outcomes).toEqual(expected)
      expect(snapshot(final)).toBe(expectedHistory)
      // Not vacuous: the history carried the old types into the later files.
      expect(JSON.stringify(outcomes[2])).toContain('changes it from varchar(100)')
      expect(JSON.stringify(outcomes[4])).toContain('alter-column-type')
      expect(JSON.stringify(outcomes[4])).not.toContain('alter-column-type-unknown-old-type')
    })
  }
})
