/** The throwaway Postgres now lives in `@ddl/schema` (diff and drift materialise sources on it). */
export type { EmbeddedPostgresClass, HookedEvent, ThrowawayServer } from '@ddl/schema'
export { freePort, letPostgresUserReachBinaries, loadEmbeddedPostgres, throwawayServerOptions } from '@ddl/schema'
