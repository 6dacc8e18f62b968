import { classify, init, type Plan } from '@ddl/classifier'
import { dryRun, gatePlan, renderSafetyError, type SafetyError } from '@ddl/executor/internal'
import { beforeAll, describe, expect, it } from 'vitest'

beforeAll(async () => {
  await init()
})

/** Classified as the executor classifies: it sets lock_timeout itself on every run. */
const plan = (sql: string): Plan => classify(sql, { lockTimeoutSet: true })._unsafeUnwrap()
const refusal = (sql: string, flags = {}) => gatePlan(plan(sql), flags, 'execute')._unsafeUnwrapErr() as SafetyError

describe('the gate', () => {
  it('lets safe SQL through with no flag', () => {
    expect(gatePlan(plan('CREATE TABLE t (id int)'), {}, 'execute').isOk()).toBe(true)
  })

  it('words a destructive refusal as the seed does', () => {
    expect(refusal('DROP TABLE users').message).toMatchInlineSnapshot(`
      "Destructive operation blocked: DROP TABLE users
      DROP TABLE users deletes the table and all its rows; once committed, only ddl undo of a run that kept it brings it back.
      Use iKnowWhatImDoing: true to override
      Hint: 1. Stop using \`users\` in the app and deploy. 2. Rename it to \`users_retired\` and wait a release. 3. Back it up, then drop it."
    `)
  })

  it('words a cautious refusal with the flag it requires', () => {
    const error = refusal('TRUNCATE test_data')
    expect(error.requires).toBe('confirm')
    expect(error.message.split('\n')[0]).toBe('Cautious operation blocked: TRUNCATE test_data')
    expect(error.message).toContain('This operation requires confirm: true')
    expect(error.message).toContain('Use confirm: true to override')
  })

  it('renders the same refusal with CLI flags', () => {
    expect(renderSafetyError(refusal('DROP TABLE users'), 'cli')).toContain('Use --i-know-what-im-doing to override')
  })

  it('refuses transaction control before looking at tiers', () => {
    expect(refusal('COMMIT; DROP TABLE x', { iKnowWhatImDoing: true }).message).toMatchInlineSnapshot(`
      "Transaction control refused: COMMIT (line 1). Nothing was sent.
      safe-ddl runs every script in its own transaction; a COMMIT, ROLLBACK or SAVEPOINT in the script would end it early or leave the rest of the script outside it.
      Remove COMMIT from the script. To group statements, pass them as one script or use transaction()."
    `)
  })

  it('redacts password literals in what it shows', () => {
    const error = refusal("CREATE ROLE app LOGIN PASSWORD 'hunter2'")
    expect(error.message).not.toContain('hunter2')
    expect(error.statements[0]?.display).toBe("CREATE ROLE app LOGIN PASSWORD '***'")
  })

  it('a rehearsal needs no flag but still refuses transaction control', () => {
    expect(gatePlan(plan('DROP TABLE users'), {}, 'rehearse').isOk()).toBe(true)
    expect(gatePlan(plan('BEGIN'), {}, 'rehearse').isErr()).toBe(true)
  })
})

describe('dryRun', () => {
  it('prints the seed pattern 6 message', () => {
    expect(dryRun(plan('CREATE TABLE test (id int)'), {}, 'default').message).toBe(
      '[DRY RUN] Would execute: CREATE TABLE test (id int)\nClassification: SAFE\nNo changes made',
    )
  })

  it('says what would be refused and why, and which flag allows it', () => {
    const refused = dryRun(plan('TRUNCATE t'), {}, 'default')
    expect(refused.wouldRun).toBe(false)
    expect(refused.message).toContain('Would be refused:')
    const allowed = dryRun(plan('TRUNCATE t'), { confirm: true }, 'default', 'cli')
    expect(allowed.wouldRun).toBe(true)
    expect(allowed.message).toContain('Requires --confirm: the flags given allow it.')
  })

  it('reports findings with their lines', () => {
    const result = dryRun(plan('CREATE TABLE a (id int);\nDROP TABLE b'), {}, 'default')
    expect(result.findings).toEqual([expect.objectContaining({ rule: 'drop-table', line: 2 })])
  })
})
