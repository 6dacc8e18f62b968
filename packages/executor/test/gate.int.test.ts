import { PostgresAPI, renderSafetyError, type SafetyError, unwrap } from '@ddl/executor/internal'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'
import { deadUrl, direct, type Harness, harness, tableRows } from './support.js'

const database = testDatabase('gate')
let h: Harness

beforeAll(async () => {
  h = harness(database)
  await direct(database.url, 'CREATE TABLE x (id int); INSERT INTO x VALUES (1), (2), (3)')
})

/** An API whose server does not exist: anything that tries to connect fails with ConnectionError. */
async function unreachable(): Promise<Harness> {
  return harness(database, { url: await deadUrl(database) })
}

describe('the tiered gate', () => {
  it('refuses COMMIT; DROP TABLE x with nothing sent, even with iKnowWhatImDoing', async () => {
    for (const flags of [{}, { iKnowWhatImDoing: true }]) {
      const error = (await h.db.execute('COMMIT; DROP TABLE x', flags))._unsafeUnwrapErr() as SafetyError
      expect(error.kind).toBe('SafetyError')
      expect(error.reason).toBe('transaction-control')
      expect(error.message).toContain('Transaction control refused: COMMIT (line 1)')
    }
    expect(await tableRows(database.url, 'x')).toBe(3)
    const offline = await unreachable()
    expect((await offline.db.execute('COMMIT; DROP TABLE x', { iKnowWhatImDoing: true }))._unsafeUnwrapErr().kind).toBe(
      'SafetyError',
    )
  })

  it('refuses BEGIN, ROLLBACK and SAVEPOINT inside execute', async () => {
    for (const sql of ['BEGIN', 'ROLLBACK', 'SAVEPOINT a', 'CREATE TABLE y (id int); COMMIT']) {
      const error = (await h.db.execute(sql))._unsafeUnwrapErr() as SafetyError
      expect(error.reason).toBe('transaction-control')
    }
  })

  it('refuses before connecting: a blocked DROP never reaches a server that is down', async () => {
    const offline = await unreachable()
    const error = (await offline.db.execute('DROP TABLE x'))._unsafeUnwrapErr()
    expect(error.kind).toBe('SafetyError')
    expect(offline.records().map((r) => r.outcome)).toEqual(['blocked'])
  })

  it('lists every blocked statement of a script with its line and keeps the rest from running', async () => {
    const sql = 'CREATE TABLE gate_new (id int);\nDELETE FROM x;\nDROP TABLE x'
    const error = (await h.db.execute(sql, { confirm: true }))._unsafeUnwrapErr() as SafetyError
    expect(error.message.split('\n')).toEqual(
      expect.arrayContaining([
        'Destructive operation blocked: 2 statements need a flag',
        'line 2: DELETE FROM x',
        'line 3: DROP TABLE x',
        'Use iKnowWhatImDoing: true to override',
      ]),
    )
    expect(error.statements.map((s) => s.line)).toEqual([2, 3])
    expect(await unwrap(h.db.tableExists('gate_new'))).toBe(false)
    expect(await tableRows(database.url, 'x')).toBe(3)
  })

  it('names the CLI flags when rendered for the CLI', async () => {
    const error = (await h.db.execute('TRUNCATE x'))._unsafeUnwrapErr() as SafetyError
    const text = renderSafetyError(error, 'cli')
    expect(text).toContain('This operation requires --confirm')
    expect(text).toContain('Use --confirm to override')
    expect(text).not.toContain('confirm: true')
  })

  it('lets iKnowWhatImDoing cover cautious work', async () => {
    await unwrap(h.db.execute('CREATE TABLE gate_c (id int); INSERT INTO gate_c VALUES (1)'))
    expect((await h.db.execute('DELETE FROM gate_c WHERE id = 1', { iKnowWhatImDoing: true })).isOk()).toBe(true)
  })

  it('refuses a statement that does not parse, with its line, and sends nothing', async () => {
    const offline = await unreachable()
    const error = (
      await offline.db.execute('CREATE TABLE ok_one (id int);\n\nCREATE TABEL x (id int)')
    )._unsafeUnwrapErr()
    expect(error.kind).toBe('ParseError')
    expect(error.message).toMatch(/^Syntax error at line 3, column \d+: syntax error at or near "TABEL"/)
    expect(error.message).toContain('Nothing was sent')
  })
})

describe('statements that cannot run in a transaction', () => {
  it('runs CREATE INDEX CONCURRENTLY alone, outside a transaction, and says so', async () => {
    const result = await unwrap(h.db.execute('CREATE INDEX CONCURRENTLY x_id_idx ON x (id)'))
    expect(result.inTransaction).toBe(false)
    expect(result.message).toContain('alone, outside a transaction')
    const schema = await unwrap(h.db.getSchema('x'))
    expect(schema.indexes).toEqual([expect.objectContaining({ name: 'x_id_idx', valid: true })])
  })

  it('runs VACUUM alone', async () => {
    const result = await unwrap(h.db.execute('VACUUM x'))
    expect(result.inTransaction).toBe(false)
  })

  it('refuses CREATE INDEX CONCURRENTLY mixed with other statements, with advice', async () => {
    const error = (
      await h.db.execute('CREATE TABLE gate_mixed (id int);\nCREATE INDEX CONCURRENTLY gm_idx ON gate_mixed (id)')
    )._unsafeUnwrapErr() as SafetyError
    expect(error.reason).toBe('non-transactional')
    expect(error.message).toContain('(line 2)')
    expect(error.message).toContain('Run it on its own')
    expect(await unwrap(h.db.tableExists('gate_mixed'))).toBe(false)
  })

  it('does not leak session settings of a statement run alone into the next call', async () => {
    await unwrap(h.db.execute('VACUUM x'))
    const settings = await unwrap(h.db.query("SELECT current_setting('statement_timeout') AS s"))
    // query() sets its own statement_timeout; outside it the pooled session is back to the default.
    expect(settings.rows[0]?.s).toBe('1min')
    const outside = await unwrap(h.db.execute('SET search_path = pg_catalog'))
    expect(outside.inTransaction).toBe(true)
    const path = await unwrap(h.db.query('SHOW search_path'))
    expect(path.rows[0]).toEqual({ search_path: '"$user", public' })
  })
})

describe('statement isolation', () => {
  it('sends each statement alone: a script of two reports two commands', async () => {
    const result = await unwrap(h.db.execute('CREATE TABLE iso (id int);\nINSERT INTO iso VALUES (1), (2)'))
    expect(result.statements.map((s) => [s.line, s.command, s.rowCount])).toEqual([
      [1, 'CREATE', null],
      [2, 'INSERT', 2],
    ])
  })

  it('returns the rows a statement returns (RETURNING)', async () => {
    const result = await unwrap(h.db.execute('INSERT INTO iso VALUES (3) RETURNING id'))
    expect(result.statements[0]?.rows).toEqual([{ id: 3 }])
  })
})

describe('a PostgresAPI without a database', () => {
  it('dry-runs with no connection string configured at all', async () => {
    const db = new PostgresAPI(undefined, { env: {}, cwd: h.dir, auditPath: h.auditPath })
    const result = await unwrap(db.execute('DROP TABLE users', { dryRun: true }))
    expect(result.wouldRun).toBe(false)
    expect(result.message).toContain('Classification: DESTRUCTIVE')
    expect(result.message).toContain('Destructive operation blocked: DROP TABLE users')
    expect(result.message.endsWith('No changes made')).toBe(true)
    const run = (await db.execute('CREATE TABLE t (id int)'))._unsafeUnwrapErr()
    expect(run.kind).toBe('ConfigError')
    expect(run.message).toContain('DDL_DATABASE_URL')
  })
})
