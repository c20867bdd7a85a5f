// The SQL layer's public surface.
export { SqlEngine, type SqlEngineOptions, type StatementDescription, type BatchResult } from './engine.js';
export { type ExecContext, type SessionInfo, DEFAULT_SETTINGS } from './functions.js';
export {
  initParser, parseSql, parseCacheStats, clearParseCache, type ParsedStatement, type StatementKind,
  type SessionCommand, type TransactionCommand, type TransactionAction,
} from './parse.js';
export { translateStatement, type TranslatedStatement, type TranslatedStep, type SchemaLookup, type ColumnInfo, type CommandTagSpec } from './translate.js';
export { PG_TYPE_OIDS, type PgType } from './pgtypes.js';
export { toSqlError } from './errors.js';
export { SqlError, type SqlValue, type FieldInfo, type QueryResult } from './types.js';
export { Catalog } from './catalog.js';
export { readCatalogModel, type CatalogModel, type CatalogRelation, type CatalogColumn, type CatalogIndex, type CatalogConstraint } from './catalog-model.js';
export { CATALOG_TABLES, findCatalogTable, type CatalogTableDef, type SessionFacts } from './catalog-tables.js';
export { CATALOG_TYPES, formatType, resolveTypeName, type CatalogType } from './catalog-types.js';
