import { parseArgs } from 'node:util'
import { isTier, type Tier } from '@ddl/classifier'
import { ConfigError } from '@ddl/executor/internal'
import { err, ok, type Result } from 'neverthrow'
import { APPROVAL_CHANNELS, type ApprovalChannel, type SettingsOverrides } from './settings.js'

/** The flags of `ddl mcp` and `ddl-mcp`, for `--help`. */
export const SERVER_HELP = `Usage: ddl mcp [options]   (or: ddl-mcp [options])

Serves safe-ddl's tools to an AI agent over MCP (stdio). Safe work runs at once; cautious and
destructive work waits for a person: \`ddl approve ID\` in their own terminal, or the client's prompt.

Settings are read once, at start, in this order: these flags, the server's own environment (both
from the MCP client configuration), then .env under --cwd, then the "mcp" key of ddl.config.json.
Read-only is on when any of them turns it on. Later changes to .env or ddl.config.json are
reported and ignored; the start-up summary (stderr) names each setting and where it came from.

Options:
  --cwd <dir>               where ddl.config.json and .env are read (default: the working directory)
  --project <name>          a project the server may use (repeat, or a comma list); "default" is
                            DDL_DATABASE_URL / DATABASE_URL                       [DDL_MCP_PROJECTS]
  --read-only               refuse every write: only classify, query and read   [DDL_MCP_READ_ONLY=1]
  --unattended <tiers>      tiers that run without a person (default: safe)     [DDL_MCP_UNATTENDED_TIERS]
  --approvals <channels>    how a person approves: cli, elicitation or both (default: both)
                            "elicitation" alone: only the client's prompt counts [DDL_MCP_APPROVALS]
  --approval-ttl <seconds>  how long an approval request lasts (default: 900)  [DDL_MCP_APPROVAL_TTL]
  --approvals-dir <dir>     the approval store (default: ~/.local/state/safe-ddl/approvals)
                                                                                 [DDL_APPROVALS_DIR]
  --migrations-dir <dir>    the default directory of migration_status and apply_migrations
  --approver-uid <uids>     grants count only from files owned by these OS user ids (comma list):
                            the approver account                                 [DDL_APPROVER_UIDS]
  --approval-key <file>     the approver's Ed25519 public key (ddl approve --init-key): grants count
                            only when signed by its private key. Never read from .env.
                                                                           [DDL_APPROVAL_PUBLIC_KEY]
  -h, --help                print this help

Docs: docs/agents.md
`

/** What the command line asks for: settings overrides, or help. */
export type ServerArgs = { readonly help: true } | { readonly help: false; readonly overrides: SettingsOverrides }

/**
 * Parses the flags of `ddl mcp` / `ddl-mcp` (see {@link SERVER_HELP}). Fails with `ConfigError` for an
 * unknown flag or a bad value. Never throws.
 *
 * @example
 * parseServerArgs(['--read-only', '--project', 'smoothed']) // ok({ help: false, overrides: { readOnly: true, projects: ['smoothed'] } })
 */
export function parseServerArgs(argv: readonly string[]): Result<ServerArgs, ConfigError> {
  let values: ReturnType<typeof parse>['values']
  try {
    values = parse(argv).values
  } catch (error) {
    return err(new ConfigError(`${(error as Error).message}. Run with --help for the options.`))
  }
  if (values.help === true) return ok({ help: true })
  const overrides: {
    -readonly [K in keyof SettingsOverrides]: SettingsOverrides[K]
  } = {}
  if (values.cwd !== undefined) overrides.cwd = values.cwd
  if (values.project !== undefined) overrides.projects = values.project.flatMap(list)
  if (values['read-only'] === true) overrides.readOnly = true
  if (values.unattended !== undefined) {
    const tiers = list(values.unattended)
    if (!tiers.every(isTier)) return err(new ConfigError('--unattended takes tiers: safe, cautious, destructive.'))
    overrides.unattendedTiers = tiers as Tier[]
  }
  if (values.approvals !== undefined) {
    const channels = list(values.approvals)
    if (channels.length === 0 || !channels.every((c) => (APPROVAL_CHANNELS as readonly string[]).includes(c))) {
      return err(new ConfigError('--approvals takes cli, elicitation, or both (cli,elicitation).'))
    }
    overrides.channels = channels as ApprovalChannel[]
  }
  if (values['approval-ttl'] !== undefined) {
    const ttl = Number(values['approval-ttl'])
    if (!Number.isSafeInteger(ttl) || ttl < 1)
      return err(new ConfigError('--approval-ttl takes whole seconds, e.g. 900.'))
    overrides.ttlSeconds = ttl
  }
  if (values['approvals-dir'] !== undefined) overrides.approvalsDir = values['approvals-dir']
  if (values['migrations-dir'] !== undefined) overrides.migrationsDir = values['migrations-dir']
  if (values['approver-uid'] !== undefined) {
    const uids = values['approver-uid'].flatMap(list).map(Number)
    if (uids.length === 0 || !uids.every((u) => Number.isSafeInteger(u) && u >= 0)) {
      return err(new ConfigError('--approver-uid takes numeric OS user ids, e.g. 1001.'))
    }
    overrides.approverUids = uids
  }
  if (values['approval-key'] !== undefined) overrides.approvalKey = values['approval-key']
  return ok({ help: false, overrides })
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      cwd: { type: 'string' },
      project: { type: 'string', multiple: true },
      'read-only': { type: 'boolean' },
      unattended: { type: 'string' },
      approvals: { type: 'string' },
      'approval-ttl': { type: 'string' },
      'approvals-dir': { type: 'string' },
      'migrations-dir': { type: 'string' },
      'approver-uid': { type: 'string', multiple: true },
      'approval-key': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}
