// Catalog: keeps one connection's pg_catalog / information_schema TEMP tables and the
// in-memory CatalogModel current. The engine calls refresh() before any statement that
// reads the catalog. The tables are rebuilt only when the schema (or the session's user
// or database, which some rows show) changed; the stamp saying what they were built from
// lives in a TEMP table too, so a rolled-back transaction rolls it back with the rows.

import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { readCatalogModel, schemaFingerprint, type CatalogModel } from './catalog-model.js';
import { CATALOG_TABLES, catalogTableDdl, rowValues, type SessionFacts } from './catalog-tables.js';
import { SqlError } from './types.js';

const STATE_TABLE = 'pgcat__state';
/** Bounds the rows one refresh writes (a runaway schema should fail, not hang). */
const MAX_CATALOG_ROWS = 5_000_000;

export class Catalog {
  private model: CatalogModel | null = null;
  private session: SessionFacts = { user: 'paxosql', database: 'paxosql' };

  constructor(private readonly db: Database.Database, private readonly logger: Logger) {}

  /** The model as of the last refresh; catalog functions read it while a statement runs. */
  current(): CatalogModel {
    if (this.model === null) throw new SqlError('XX000', 'internal error: the catalog was read before it was refreshed');
    return this.model;
  }

  /** The user the catalog rows were built for (pg_get_userbyid and friends). */
  currentUser(): string {
    return this.session.user;
  }

  /**
   * Brings the model and the TEMP tables up to date with the schema and this session.
   * Without a session (Describe, which runs nothing) the rows keep the last session's
   * user and database, so a Parse/Execute pair does not rebuild the tables twice.
   */
  refresh(session: SessionFacts = this.session): CatalogModel {
    const fingerprint = schemaFingerprint(this.db);
    if (this.model?.fingerprint !== fingerprint) this.model = readCatalogModel(this.db, this.logger);
    this.session = session;
    const model = this.model;
    const stamp = JSON.stringify([fingerprint, session.user, session.database]);
    // A savepoint works inside and outside a transaction, so a failed refresh leaves nothing half-written.
    this.db.exec('SAVEPOINT paxosql_catalog');
    try {
      if (!this.tablesExist()) this.createTables();
      if (this.storedStamp() !== stamp) this.fill(model, session, stamp);
      this.db.exec('RELEASE paxosql_catalog');
    } catch (error) {
      this.db.exec('ROLLBACK TO paxosql_catalog');
      this.db.exec('RELEASE paxosql_catalog');
      throw error;
    }
    return model;
  }

  private tablesExist(): boolean {
    return this.db.prepare("SELECT 1 FROM temp.sqlite_master WHERE type = 'table' AND name = ?").pluck().get(STATE_TABLE) !== undefined;
  }

  private createTables(): void {
    for (const ddl of catalogTableDdl()) this.db.exec(ddl);
    this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS ${STATE_TABLE} (stamp text)`);
  }

  private storedStamp(): string | undefined {
    return this.db.prepare(`SELECT stamp FROM temp.${STATE_TABLE}`).pluck().get() as string | undefined;
  }

  private fill(model: CatalogModel, session: SessionFacts, stamp: string): void {
    let written = 0;
    for (const def of CATALOG_TABLES) {
      this.db.exec(`DELETE FROM temp.${def.table}`);
      const rows = def.rows(model, session);
      if (rows.length === 0) continue;
      written += rows.length;
      if (written > MAX_CATALOG_ROWS) throw new SqlError('54000', 'the schema is too large for the catalog views');
      const insert = this.db.prepare(`INSERT INTO temp.${def.table} VALUES (${def.columns.map(() => '?').join(', ')})`);
      for (const row of rows) insert.run(rowValues(def, row));
    }
    this.db.exec(`DELETE FROM temp.${STATE_TABLE}`);
    this.db.prepare(`INSERT INTO temp.${STATE_TABLE} VALUES (?)`).run(stamp);
    this.logger.debug({ rows: written }, 'catalog tables refreshed');
  }
}
