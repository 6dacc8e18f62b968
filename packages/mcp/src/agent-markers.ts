import type { Env } from '@ddl/executor/internal'

/**
 * Environment variables coding agents set in the shells they run commands in: Claude Code
 * (`CLAUDECODE`), Cursor's agent (`CURSOR_AGENT`), OpenAI Codex (`CODEX_SANDBOX`,
 * `CODEX_SANDBOX_NETWORK_DISABLED`), Gemini CLI (`GEMINI_CLI`). A person adds more with
 * `DDL_AGENT_MARKERS` (a comma list) in their own environment.
 */
export const AGENT_MARKERS: readonly string[] = [
  'CLAUDECODE',
  'CURSOR_AGENT',
  'CODEX_SANDBOX',
  'CODEX_SANDBOX_NETWORK_DISABLED',
  'GEMINI_CLI',
]

/**
 * The agent markers set (to a non-empty value other than `0`) in `env`: the built-in
 * {@link AGENT_MARKERS} and those named in `DDL_AGENT_MARKERS`. Empty when no known agent shows.
 * Never throws.
 *
 * @example
 * agentMarkers({ CLAUDECODE: '1' }) // ['CLAUDECODE']
 */
export function agentMarkers(env: Env): string[] {
  const extra = (env.DDL_AGENT_MARKERS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s))
  const names = [...new Set([...AGENT_MARKERS, ...extra])]
  return names.filter((name) => {
    const value = env[name]
    return value !== undefined && value.trim() !== '' && value.trim() !== '0'
  })
}

/**
 * True when the person said, in their own environment, that override flags typed under an agent
 * count as theirs (`DDL_TRUST_AGENT_FLAGS=1`). An agent can set a variable for a command it runs
 * itself, so this is a convenience for a person who accepts that, not a boundary. Never throws.
 */
export function trustsAgentFlags(env: Env): boolean {
  const value = env.DDL_TRUST_AGENT_FLAGS?.trim().toLowerCase()
  return value === '1' || value === 'true' || value === 'yes'
}
