import { unwrap } from '@ddl/executor'
import { beforeAll, describe, expect, it } from 'vitest'
import { testDatabase } from '../../../test/support/database.js'
import { direct, type Harness, harness } from './support.js'

const database = testDatabase('schema')
let h: Harness

beforeAll(async () => {
  h = harness(database)
  await direct(
    database.url,
    `CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email varchar(200) NOT NULL UNIQUE,
                         status text DEFAULT 'active' CHECK (status <> ''), created_at timestamptz NOT NULL DEFAULT now());
     CREATE TABLE posts (id int PRIMARY KEY, user_id bigint REFERENCES users(id), title text);
     CREATE INDEX posts_title_idx ON posts (lower(title));
     COMMENT ON TABLE users IS 'people';
     CREATE SCHEMA "my schema";
     CREATE TABLE "my schema"."Mixed Case" (id int);
     CREATE VIEW recent_posts AS SELECT * FROM posts;`,
  )
})

describe('getSchema()', () => {
  it('describes columns with name, type, nullable and default', async () => {
    const schema = await unwrap(h.db.getSchema('users'))
    expect(schema.qualifiedName).toBe('public.users')
    expect(schema.kind).toBe('table')
    expect(schema.comment).toBe('people')
    expect(
      schema.columns.map(({ name, type, nullable, default: d, identity }) => ({ name, type, nullable, d, identity })),
    ).toEqual([
      { name: 'id', type: 'bigint', nullable: false, d: null, identity: 'ALWAYS' },
      { name: 'email', type: 'character varying(200)', nullable: false, d: null, identity: null },
      { name: 'status', type: 'text', nullable: true, d: "'active'::text", identity: null },
      { name: 'created_at', type: 'timestamp with time zone', nullable: false, d: 'now()', identity: null },
    ])
  })

  it('lists indexes and constraints', async () => {
    const schema = await unwrap(h.db.getSchema('posts'))
    expect(schema.indexes.map((i) => [i.name, i.primary, i.unique])).toEqual([
      ['posts_pkey', true, true],
      ['posts_title_idx', false, false],
    ])
    expect(schema.indexes[1]?.definition).toBe(
      'CREATE INDEX posts_title_idx ON public.posts USING btree (lower(title))',
    )
    expect(schema.constraints.filter((c) => c.type !== 'not null').map((c) => [c.name, c.type, c.definition])).toEqual([
      ['posts_user_id_fkey', 'foreign key', 'FOREIGN KEY (user_id) REFERENCES users(id)'],
      ['posts_pkey', 'primary key', 'PRIMARY KEY (id)'],
    ])
  })

  it('iterates over columns, as the seed does', async () => {
    const names: string[] = []
    for (const col of await unwrap(h.db.getSchema('posts'))) names.push(`${col.name}: ${col.type}`)
    expect(names).toEqual(['id: integer', 'user_id: bigint', 'title: text'])
  })

  it('reads schema-qualified and quoted names', async () => {
    const schema = await unwrap(h.db.getSchema('"my schema"."Mixed Case"'))
    expect([schema.schema, schema.name, schema.qualifiedName]).toEqual([
      'my schema',
      'Mixed Case',
      '"my schema"."Mixed Case"',
    ])
    expect((await unwrap(h.db.getSchema('recent_posts'))).kind).toBe('view')
  })

  it('fails with 42P01 for a table that does not exist', async () => {
    const error = (await h.db.getSchema('nope'))._unsafeUnwrapErr()
    expect(error).toMatchObject({ kind: 'PostgresError', code: '42P01' })
    expect(error.message).toContain('ddl schema` lists the tables')
  })
})

describe('tableExists()', () => {
  it.each([
    ['users', true],
    ['public.users', true],
    ['PUBLIC.USERS', true],
    ['"users"', true],
    ['"Users"', false],
    ['"my schema"."Mixed Case"', true],
    ['"my schema".mixed case', false],
    ['recent_posts', true],
    ['nope', false],
    ['no_schema.users', false],
  ])('answers %s with %s', async (name, expected) => {
    expect((await h.db.tableExists(name))._unsafeUnwrap()).toBe(expected)
  })

  it('refuses an empty name', async () => {
    expect((await h.db.tableExists(' '))._unsafeUnwrapErr().kind).toBe('InputError')
  })
})

describe('listTables()', () => {
  it('lists tables and views outside the system schemas, public first', async () => {
    const tables = await unwrap(h.db.listTables())
    expect(tables.map((t) => `${t.schema}.${t.name}:${t.kind}`)).toEqual([
      'public.posts:table',
      'public.recent_posts:view',
      'public.users:table',
      'my schema.Mixed Case:table',
    ])
  })
})
