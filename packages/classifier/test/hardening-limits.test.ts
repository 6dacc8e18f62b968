/**
 * Resource limits (issue 11): huge scripts are classified correctly or refused with a clear error;
 * deeply nested SQL gets a fail-closed verdict without taking the parser down; and when the parser
 * itself crashes, the next classify call still works. No timings are asserted: only counts and tiers.
 */
import { classify, init } from '@ddl/classifier'
import { beforeAll, describe, expect, it } from 'vitest'
import { parseRaw, parserReady } from '../src/parser.js'

beforeAll(async () => {
  await init()
})

const N = 10_000

describe('after the parser crashes', () => {
  // `IS NOT NULL` chained 10,000 times exhausts the C stack of the WebAssembly parser (classify's
  // guard keeps it away from the parser; parseRaw alone does not).
  const crasher = `SELECT true${' IS NOT NULL'.repeat(N)}`

  it('gives the next classify call the spare parser at once', () => {
    expect(parseRaw(crasher)).toMatchObject({ ok: false, crashed: true })
    expect(parserReady()).toBe(true)
    expect(classify('DROP TABLE users')._unsafeUnwrap().tier).toBe('destructive')
  })

  it('says the parser is being reloaded when no spare was left, then takes the new one without init()', async () => {
    await init()
    // Two crashes in a row use up the active instance and its spare.
    expect(parseRaw(crasher)).toMatchObject({ ok: false, crashed: true })
    expect(parseRaw(crasher)).toMatchObject({ ok: false, crashed: true })
    const error = classify('SELECT 1')._unsafeUnwrapErr()
    expect(error.kind).toBe('NotInitializedError')
    expect(error.message).toBe(
      'The parser crashed on earlier input and is being reloaded; nothing was classified. ' +
        'Try again in a moment (`await init()` waits for it).',
    )
    // The replacement, already loading, takes over by itself (it was lost before: every later call
    // failed until someone called init() again).
    for (let i = 0; i < 600 && !parserReady(); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(parserReady()).toBe(true)
    expect(classify('DROP TABLE users')._unsafeUnwrap().tier).toBe('destructive')
    await init()
    expect(classify('SELECT 1')._unsafeUnwrap().tier).toBe('safe')
  }, 60_000)
})
