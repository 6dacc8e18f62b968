import { describe, expect, it } from 'vitest'
// This file never calls init(): vitest runs each test file in its own module graph, so the parser
// is not loaded here.
import { classify, init, NotInitializedError } from '../src/index.js'

describe('classify before init', () => {
  it('throws NotInitializedError instead of returning an error value a script could ignore', () => {
    expect(() => classify('DROP TABLE users')).toThrow(NotInitializedError)
    expect(() => classify('DROP TABLE users')).toThrow(
      'The classifier is not initialised: call `await init()` once before classify().',
    )
  })

  it('classifies once init() has resolved', async () => {
    await init()
    const plan = classify('DROP TABLE users')
    if (plan.isErr()) throw plan.error
    expect(plan.value.tier).toBe('destructive')
  })
})
