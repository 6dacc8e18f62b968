import { defineRule } from '../rule.js'
import type { Fields } from '../walk.js'

/** Extensions that run code on the database host or read and write its files. */
const HOST: ReadonlyMap<string, string> = new Map([
  ['file_fdw', 'reads server files and runs programs through foreign tables'],
  ['adminpack', 'writes, renames and deletes files on the database server'],
  ['pg_surgery', 'overwrites tuples on disk, bypassing every check'],
  ['plpythonu', 'is an untrusted language: its functions run anything on the host'],
  ['plpython2u', 'is an untrusted language: its functions run anything on the host'],
  ['plpython3u', 'is an untrusted language: its functions run anything on the host'],
  ['plperlu', 'is an untrusted language: its functions run anything on the host'],
  ['pltclu', 'is an untrusted language: its functions run anything on the host'],
  ['plsh', 'runs shell scripts on the host'],
  ['pljavau', 'is an untrusted language: its functions run anything on the host'],
])

/** Extensions that reach other servers or run SQL outside the transaction that created them. */
const REACH: ReadonlyMap<string, string> = new Map([
  ['dblink', 'runs SQL on other servers, outside this transaction'],
  ['postgres_fdw', 'reads and writes tables on other servers'],
  ['mysql_fdw', 'reads and writes tables on other servers'],
  ['oracle_fdw', 'reads and writes tables on other servers'],
  ['tds_fdw', 'reads and writes tables on other servers'],
  ['pg_cron', 'runs scheduled SQL later, outside any review'],
  ['pg_net', 'sends HTTP requests from the database'],
  ['http', 'sends HTTP requests from the database'],
  ['pgsql-http', 'sends HTTP requests from the database'],
  ['pg_background', 'runs SQL in background workers, outside this transaction'],
  ['pageinspect', 'reads raw pages, bypassing privileges and row level security'],
  ['pg_walinspect', 'reads the write-ahead log'],
  ['lo', 'deletes large objects through its trigger'],
])

/**
 * CREATE EXTENSION of an extension that gives superpowers: code or files on the host (destructive),
 * or other servers and out-of-transaction SQL (cautious). CREATE LANGUAGE of an untrusted language too.
 */
export const superuserExtension = defineRule<Fields>({
  id: 'superuser-extension',
  tier: 'cautious',
  kinds: ['CreateExtensionStmt', 'CreatePLangStmt'],
  check: (node, ctx) => {
    const name = String((ctx.nodeType === 'CreatePLangStmt' ? node.plname : node.extname) ?? '').toLowerCase()
    if (HOST.has(name) || (ctx.nodeType === 'CreatePLangStmt' && node.pltrusted !== true)) {
      return [{ target: name, tier: 'destructive' }]
    }
    return REACH.has(name) ? [{ target: name, tier: 'cautious' }] : undefined
  },
  message: (t) =>
    `${t} ${HOST.get(t) ?? REACH.get(t) ?? 'is an untrusted language: its functions run anything on the host'}; once installed, later statements can use it.`,
  hint: 'Have an operator install it by hand after review; grant its functions to the roles that need them, not to PUBLIC.',
})
