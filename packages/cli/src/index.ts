export type { ExitCode, Io } from './io.js'
export { colorEnabled, EXIT } from './io.js'
export type { CommandContext, Register } from './program.js'
export { createProgram, run } from './program.js'
export type { EmbeddedPostgresClass, HookedEvent, ThrowawayServer } from './throwaway-postgres.js'
export {
  freePort,
  letPostgresUserReachBinaries,
  loadEmbeddedPostgres,
  throwawayServerOptions,
} from './throwaway-postgres.js'
