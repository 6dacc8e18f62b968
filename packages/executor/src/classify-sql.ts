import { type ClassifyOptions, classify, init, type Plan } from '@ddl/classifier'
import { err, ok, type Result, ResultAsync } from 'neverthrow'
import { InputError } from './errors.js'
import { checkSqlText } from './sql-input.js'

/**
 * Checks and classifies SQL: not empty, no NUL byte, valid Unicode, parseable by the classifier
 * (which bounds the size), and at least one statement (a script of only comments is refused).
 * Fails with `InputError`. Statements the grammar rejects are in the plan (`hasParseErrors`); the
 * gate refuses them. Never throws.
 *
 * @example
 * const plan = await classifySql('CREATE TABLE t (id int)', {}) // ok(plan) with plan.tier 'safe'
 */
export function classifySql(sql: string, options: ClassifyOptions = {}, path?: string): ResultAsync<Plan, InputError> {
  const checked = checkSqlText(sql, path)
  if (checked.isErr()) return ResultAsync.fromSafePromise(Promise.resolve()).andThen(() => err(checked.error))
  return ResultAsync.fromPromise(
    init(),
    (error) =>
      new InputError(
        `The SQL parser could not be loaded (${error instanceof Error ? error.message : String(error)}). ` +
          'Reinstall with pnpm install.',
        { problem: 'parser', path },
      ),
  ).andThen(() => classifyLoaded(sql, options, path))
}

function classifyLoaded(sql: string, options: ClassifyOptions, path: string | undefined): Result<Plan, InputError> {
  const from = path !== undefined ? ` in ${path}` : ''
  let classified: ReturnType<typeof classify>
  try {
    classified = classify(sql, options)
  } catch (error) {
    return err(
      new InputError(`The SQL${from} could not be classified: ${(error as Error).message}`, {
        problem: 'parser',
        path,
      }),
    )
  }
  if (classified.isErr()) {
    const e = classified.error
    const tooLarge = /large|long|size|bytes|limit/i.test(e.message)
    return err(
      new InputError(
        tooLarge
          ? `${e.message} Split the script into smaller files (ddl migrate runs a directory of them in order).`
          : `The SQL${from} could not be classified: ${e.message}`,
        { problem: tooLarge ? 'too-large' : 'parser', path },
        { cause: e },
      ),
    )
  }
  const plan = classified.value
  if (plan.statements.length === 0) {
    return err(
      new InputError(`No SQL statement to run${from}: the input holds only comments or semicolons.`, {
        problem: 'empty',
        path,
      }),
    )
  }
  return ok(plan)
}
