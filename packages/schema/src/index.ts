export type { CatalogDifference, CatalogLine } from './catalog-dump.js'
export { compareCatalogs, dumpCatalog } from './catalog-dump.js'
export type { ChangedFile, DriftReport, ShadowOptions, SourceDiff } from './compare.js'
export { detectDrift, diffSources, dumpDatabase } from './compare.js'
export type { Catalog } from './engine.js'
export { readCatalog } from './engine.js'
export type { SchemaProblem } from './errors.js'
export { SchemaError } from './errors.js'
export { renderJson, renderSql, renderStatement } from './render.js'
export type { DiffOptions, DiffStatement, PossibleRename, RenameChoice, SchemaDiff } from './schema-diff.js'
export { DIFF_DATA_LOSS_RULE, diffCatalogs } from './schema-diff.js'
export type { SchemaSource, ShadowDatabase, SourceContext } from './sources.js'
export { applyToShadow, createShadowDatabase, resolveSource, sourceLabel } from './sources.js'
export type { EmbeddedPostgresClass, HookedEvent, RunningThrowaway, ThrowawayServer } from './throwaway-postgres.js'
export {
  freePort,
  letPostgresUserReachBinaries,
  loadEmbeddedPostgres,
  startThrowawayPostgres,
  throwawayServerOptions,
} from './throwaway-postgres.js'
export type { WrittenMigration } from './write-migration.js'
export { writeMigration } from './write-migration.js'
