// Prisma migrations without the native schema-engine binary, which cannot be downloaded on
// offline machines: Prisma's own engine compiled to WebAssembly does the same work.
//   deploy          create the database if missing, then apply pending prisma/migrations
//                   (recorded in _prisma_migrations exactly like `prisma migrate deploy`)
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

async function deploy(url) {
  await ensureDatabase(url);
  const engine = await newEngine(new PrismaPg(pgConfig(url)));
  try {
    const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList: migrationsList(), filters });
    console.log(appliedMigrationNames.length ? `applied: ${appliedMigrationNames.join(', ')}` : 'database is up to date');
  } finally {
    engine.free();
  }
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
