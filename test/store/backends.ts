/**
 * The two databases the store suite runs against. SQLite gets a new file per store; PostgreSQL gets one
 * database per test-file run (so parallel runs never meet), emptied before each test.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

export interface Backend {
  name: 'sqlite' | 'postgres';
  setUp(): Promise<void>;
  tearDown(): Promise<void>;
  /** A store URL whose database is empty. */
  freshUrl(): Promise<string>;
  /** Runs one statement outside the store, as another program (or a newer certmaster) would. */
  execute(url: string, statement: string): Promise<void>;
}

export const POSTGRES_BASE_URL = process.env.CERTMASTER_TEST_PG ?? 'postgres://root@127.0.0.1:5432/test';

export function sqliteBackend(): Backend & { directory(): string } {
  let directory: string | null = null;
  let count = 0;
  return {
    name: 'sqlite',
    directory() {
      if (directory === null) {
        throw new Error('sqlite backend used before setUp');
      }
      return directory;
    },
    async setUp() {
      directory = mkdtempSync(join(tmpdir(), 'certmaster-store-'));
    },
    async tearDown() {
      if (directory !== null) {
        rmSync(directory, { recursive: true, force: true });
      }
    },
    async freshUrl() {
      count++;
      return `sqlite:${join(this.directory(), `store-${count}.db`)}`;
    },
    async execute(url, statement) {
      const db = new Database(url.slice('sqlite:'.length));
      try {
        db.exec(statement);
      } finally {
        db.close();
      }
    },
  };
}

async function withClient<T>(url: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

export function postgresBackend(): Backend {
  const databaseName = `cm_test_${randomBytes(6).toString('hex')}`;
  const url = new URL(POSTGRES_BASE_URL);
  url.pathname = `/${databaseName}`;
  const databaseUrl = url.toString();
  return {
    name: 'postgres',
    async setUp() {
      await withClient(POSTGRES_BASE_URL, (client) => client.query(`CREATE DATABASE ${databaseName}`));
    },
    async tearDown() {
      await withClient(POSTGRES_BASE_URL, async (client) => {
        // pg's Pool.end() resolves once it has asked its clients to end, not once their sessions have
        // gone: a session still closing when FORCE terminates it sends its client a FATAL error that
        // nothing listens to any more (an uncaught exception in the test). Wait for them first.
        for (let waited = 0; waited < 5_000; waited += 50) {
          const { rows } = await client.query<{ n: string }>(
            'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1',
            [databaseName],
          );
          if (Number(rows[0]?.n ?? 0) === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await client.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
      });
    },
    async freshUrl() {
      await withClient(databaseUrl, (client) =>
        client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public'),
      );
      return databaseUrl;
    },
    async execute(target, statement) {
      await withClient(target, (client) => client.query(statement));
    },
  };
}

export function allBackends(): Backend[] {
  return [sqliteBackend(), postgresBackend()];
}

/**
 * Statements that make every insert of an audit record of `phase` fail, as a full disk would: a real
 * trigger, run through `Backend.execute`.
 */
export function refuseAuditPhase(backend: Backend['name'], phase: 'request' | 'response'): string[] {
  return backend === 'sqlite'
    ? [
        `CREATE TRIGGER no_${phase} BEFORE INSERT ON audit_events WHEN NEW.phase = '${phase}'
         BEGIN SELECT RAISE(ABORT, 'audit disk full'); END`,
      ]
    : [
        `CREATE FUNCTION no_${phase}() RETURNS trigger AS $$
         BEGIN RAISE EXCEPTION 'audit disk full'; END $$ LANGUAGE plpgsql`,
        `CREATE TRIGGER no_${phase} BEFORE INSERT ON audit_events FOR EACH ROW
         WHEN (NEW.phase = '${phase}') EXECUTE FUNCTION no_${phase}()`,
      ];
}
