// Prisma migrations without the native schema-engine binary, which cannot be downloaded on
// offline machines: Prisma's own engine compiled to WebAssembly does the same work.
//   deploy          create the database if missing, then apply pending prisma/migrations
//                   (recorded in _prisma_migrations exactly like `prisma migrate deploy`),
//                   then the vector step (below)
//   create <name>   diff the schema against the migrations (replayed into in-memory PGlite)
//                   and write prisma/migrations/<timestamp>_<name>/migration.sql
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import * as wasmBindings from '@prisma/schema-engine-wasm/schema_engine_bg';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/ai_service';
const require = createRequire(import.meta.url);
const schemaPath = path.resolve('prisma/schema.prisma');
const migrationsDir = path.resolve('prisma/migrations');
const lockPath = path.join(migrationsDir, 'migration_lock.toml');
const filters = { externalTables: [], externalEnums: [] };

function loadEngine() {
  const wasmFile = path.join(path.dirname(require.resolve('@prisma/schema-engine-wasm')), 'schema_engine_bg.wasm');
  const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmFile)), {
    './schema_engine_bg.js': wasmBindings,
  });
  wasmBindings.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start?.();
}

const schemaFiles = () => ({ files: [{ path: schemaPath, content: readFileSync(schemaPath, 'utf8') }] });

function migrationsList() {
  const dirs = existsSync(migrationsDir)
    ? readdirSync(migrationsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  return {
    baseDir: migrationsDir,
    shadowDbInitScript: '',
    lockfile: { path: 'migration_lock.toml', content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    migrationDirectories: dirs.map((dir) => ({
      path: dir,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok', value: readFileSync(path.join(migrationsDir, dir, 'migration.sql'), 'utf8') },
      },
    })),
  };
}

function newEngine(adapterFactory) {
  const datamodels = schemaFiles().files.map((f) => [f.path, f.content]);
  const log = (line) => process.env.DEBUG && console.error(line);
  return wasmBindings.SchemaEngine.new({ datamodels }, log, bindMigrationAwareSqlAdapterFactory(adapterFactory));
}

// PrismaPg must get discrete fields: its shadow-database path spreads the config object.
function pgConfig(url) {
  return {
    host: url.hostname,
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username) || 'postgres',
    password: decodeURIComponent(url.password) || undefined,
    database: decodeURIComponent(url.pathname.slice(1)),
  };
}

async function ensureDatabase(url) {
  const config = pgConfig(url);
  const admin = new pg.Client({ ...config, database: 'postgres' });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [config.database]);
    if (rowCount === 0) {
      await admin.query(`CREATE DATABASE "${config.database.replace(/"/g, '""')}"`);
      console.log(`created database ${config.database}`);
    }
  } finally {
    await admin.end();
  }
}

// PrismaPg's executeScript splits a migration at every ';', which breaks DO blocks and function
// bodies; the native engine sends a migration to PostgreSQL whole (one implicit transaction), and
// so does this.
function sendingScriptsWhole(factory) {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter = await connect();
    adapter.executeScript = async (script) => {
      try {
        await adapter.underlyingDriver().query(script);
      } catch (error) {
        adapter.onError(error);
      }
    };
    return adapter;
  };
  return factory;
}

async function deploy(url) {
  await ensureDatabase(url);
  const engine = await newEngine(sendingScriptsWhole(new PrismaPg(pgConfig(url))));
  try {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList: migrationsList(), filters });
    console.log(appliedMigrationNames.length ? `applied: ${appliedMigrationNames.join(', ')}` : 'database is up to date');
  } finally {
    engine.free();
  }
  await ensureVectorSchema(url);
}

// The part of the schema that depends on pgvector, run after every deploy because it depends on
// the server and a setting rather than on the migration history: pgvector installed after the
// migrations ran, or another RAG_EMBEDDING_DIMENSIONS, takes effect on the next `npm run db:migrate`.
// Without pgvector it does nothing and the service runs with vector search off. The column's
// dimension changes only while no chunk has a vector; otherwise a differing setting is an error.
async function ensureVectorSchema(url) {
  const dimensions = embeddingDimensions();
  const client = new pg.Client(pgConfig(url));
  await client.connect();
  try {
    // One at a time: instances started together run this step together.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', ['ai-service:vector-schema']);
    const [{ available }] = (await client.query(`SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'vector') AS available`)).rows;
    if (!available) {
      console.log('vector search: off (PostgreSQL has no pgvector; see docs/knowledge.md)');
      return;
    }
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
    } catch (error) {
      if (error.code !== '42501') throw error;
      console.log('vector search: off (pgvector is available, but this role may not CREATE EXTENSION vector)');
      return;
    }
    await client.query(`ALTER TABLE "DocumentChunk" ADD COLUMN IF NOT EXISTS "embedding" vector(${dimensions})`);
    const current = await columnDimensions(client);
    if (current !== dimensions) {
      const { rowCount } = await client.query('SELECT 1 FROM "DocumentChunk" WHERE "embedding" IS NOT NULL LIMIT 1');
      if (rowCount > 0) {
        throw new Error(
          `RAG_EMBEDDING_DIMENSIONS is ${dimensions}, but the stored chunks have vector(${current}) embeddings: ` +
            `keep ${current}, or delete the documents first (docs/knowledge.md)`,
        );
      }
      await client.query('DROP INDEX IF EXISTS "DocumentChunk_embedding_idx"');
      await client.query(`ALTER TABLE "DocumentChunk" ALTER COLUMN "embedding" TYPE vector(${dimensions})`);
    }
    await client.query('CREATE INDEX IF NOT EXISTS "DocumentChunk_embedding_idx" ON "DocumentChunk" USING hnsw ("embedding" vector_cosine_ops)');
    console.log(`vector search: on (vector(${dimensions}), HNSW cosine index)`);
  } finally {
    await client.end();
  }
}

// For `vector(n)` PostgreSQL keeps n as the column's type modifier.
async function columnDimensions(client) {
  const { rows } = await client.query(`SELECT atttypmod AS dimensions FROM pg_attribute WHERE attrelid = '"DocumentChunk"'::regclass AND attname = 'embedding'`);
  return rows[0]?.dimensions;
}

// The same rule as the service's (src/config/env.schema.ts): HNSW indexes `vector` up to 2000 dimensions.
function embeddingDimensions() {
  const raw = process.env.RAG_EMBEDDING_DIMENSIONS || '1536';
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 2000)
    throw new Error(`Invalid environment variable RAG_EMBEDDING_DIMENSIONS: must be an integer from 1 to 2000 (got ${raw})`);
  return value;
}

// The wasm engine refuses a PostgreSQL shadow database, so the migrations are replayed into
// an in-memory PGlite and diffed against the schema there.
async function create(name) {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PrismaPGlite } = await import('pglite-prisma-adapter');
  const engine = await newEngine(new PrismaPGlite(new PGlite()));
  let script;
  try {
    await engine.applyMigrations({ migrationsList: migrationsList(), filters });
    const schema = schemaFiles();
    const { stdout } = await engine.diff({
      from: { tag: 'schemaDatasource', ...schema, configDir: process.cwd() },
      to: { tag: 'schemaDatamodel', ...schema },
      script: true,
      exitCode: null,
      filters,
    });
    script = stdout;
  } finally {
    engine.free();
  }
  if (!script || /^-- This is an empty migration\.\s*$/.test(script)) {
    console.log('schema unchanged, no migration created');
    return;
  }
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const dir = path.join(migrationsDir, `${stamp}_${name.replace(/[^a-zA-Z0-9_]/g, '_')}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'migration.sql'), script);
  if (!existsSync(lockPath)) {
    writeFileSync(lockPath, '# Please do not edit this file manually\nprovider = "postgresql"\n');
  }
  console.log(`created ${path.relative(process.cwd(), dir)}/migration.sql`);
}

const [command, name] = process.argv.slice(2);
loadEngine();
try {
  if (command === 'deploy') await deploy(new URL(process.env.DATABASE_URL || DEFAULT_DATABASE_URL));
  else if (command === 'create' && name) await create(name);
  else {
    console.error('usage: db-migrate.mjs deploy | create <name>');
    process.exitCode = 2;
  }
} catch (error) {
  console.error(`migration failed: ${error.message ?? error}`);
  process.exitCode = 1;
}
