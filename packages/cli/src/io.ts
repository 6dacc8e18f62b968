import pc from 'picocolors'

/** Where a command reads and writes: the real process, or a test's buffers. */
export interface Io {
  readonly stdout: (text: string) => void
  readonly stderr: (text: string) => void
  /** Reads all of standard input (for `-` paths). */
  readonly readStdin: () => Promise<string>
  readonly env: NodeJS.ProcessEnv
  readonly cwd: string
  /** True when colours may be used on stdout. */
  readonly color: boolean
}

/** Exit codes, documented in docs/cli.md: 0 ok, 1 refused/failed/threshold, 2 usage or I/O. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** Colours only on a TTY, never with NO_COLOR, always with FORCE_COLOR (unless it is 0). */
export function colorEnabled(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false'
  return isTTY && env.TERM !== 'dumb'
}

export function processIo(): Io {
  // `ddl check ... | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0)
      throw error
    })
  }
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      return Buffer.concat(chunks).toString('utf8')
    },
    env: process.env,
    cwd: process.cwd(),
    color: colorEnabled(process.env, process.stdout.isTTY === true),
  }
}

export type Colors = ReturnType<typeof pc.createColors>

export function colors(io: Io): Colors {
  return pc.createColors(io.color)
}
