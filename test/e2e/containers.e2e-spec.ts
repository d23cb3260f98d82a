// Static checks of the container files (no Docker engine needed): the Dockerfile, .dockerignore
// and docker-compose.yml must agree with each other and with the app's own configuration.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { validateEnv } from '../../src/config/env.schema';

const ROOT = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');
const HEALTH_PATH = '/api/v1/health';

// ---- Dockerfile ------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  name?: string;
  base: string;
  index: number;
  instructions: Instruction[];
}

interface Copy {
  flags: Record<string, string>;
  sources: string[];
  dest: string;
}

// Joins backslash-continued lines, drops comments (Docker drops them inside continuations too)
// and splits each instruction into keyword and arguments.
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let buffer = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (buffer === '') start = i + 1;
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1).trim()} `;
      return;
    }
    buffer += line;
    const match = /^(\S+)\s*([\s\S]*)$/.exec(buffer)!;
    instructions.push({ keyword: match[1].toUpperCase(), args: match[2].trim(), line: start });
    buffer = '';
  });
  if (buffer !== '') throw new Error(`Dockerfile ends inside a continued line started at line ${start}`);
  return instructions;
}

// Leading `--flag=value` options, then the rest as JSON (exec form) or whitespace-separated words.
function splitArgs(args: string): { flags: Record<string, string>; words: string[]; json: boolean } {
  const flags: Record<string, string> = {};
  let rest = args;
  for (let m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest); m; m = /^--([\w-]+)(?:=(\S*))?\s*/.exec(rest)) {
    flags[m[1]] = m[2] ?? 'true';
    rest = rest.slice(m[0].length);
  }
  if (rest.startsWith('[')) return { flags, words: JSON.parse(rest) as string[], json: true };
  return { flags, words: rest.split(/\s+/).filter(Boolean), json: false };
}

function stagesOf(instructions: Instruction[]): { globalArgs: Record<string, string>; stages: Stage[] } {
  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === 'FROM') {
      const { words } = splitArgs(instruction.args);
      const as = words.findIndex((w) => w.toUpperCase() === 'AS');
      stages.push({ base: words[0], name: as >= 0 ? words[as + 1] : undefined, index: stages.length, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.keyword === 'ARG') {
        const [name, value = ''] = instruction.args.split('=');
        globalArgs[name.trim()] = value.trim();
      }
    } else {
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return { globalArgs, stages };
}

const parseCopy = (instruction: Instruction): Copy => {
  const { flags, words } = splitArgs(instruction.args);
  return { flags, sources: words.slice(0, -1), dest: words[words.length - 1] };
};
const copiesOf = (stage: Stage) => stage.instructions.filter((i) => i.keyword === 'COPY').map(parseCopy);
const runsOf = (stage: Stage) => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
const last = (stage: Stage, keyword: string) => [...stage.instructions].reverse().find((i) => i.keyword === keyword);

// ---- .dockerignore ---------------------------------------------------------------------------

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      re += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

// Docker's rules: a pattern matches a path or any of its parent directories; the last matching
// pattern wins, and `!` re-includes.
function dockerignoreMatcher(text: string): (relPath: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).trim()).replace(/^\/+|\/+$/g, '');
      return { negate, re: globToRegExp(pattern) };
    });
  return (relPath) => {
    const parts = posix
      .normalize(relPath)
      .replace(/^\.?\/+|\/+$/g, '')
      .split('/');
    let excluded = false;
    for (const rule of rules) {
      if (parts.some((_, i) => rule.re.test(parts.slice(0, i + 1).join('/')))) excluded = !rule.negate;
    }
    return excluded;
  };
}

function filesUnder(relDir: string): string[] {
  return readdirSync(join(ROOT, relDir), { withFileTypes: true }).flatMap((entry) => {
    const rel = posix.join(relDir, entry.name);
    return entry.isDirectory() ? filesUnder(rel) : [rel];
  });
}

// Paths in the build context a COPY source names (globs expanded against the repository).
function contextMatches(source: string): string[] {
  const clean = posix.normalize(source).replace(/^\.?\/+|\/+$/g, '') || '.';
  if (!/[*?[]/.test(clean)) return existsSync(join(ROOT, clean)) ? [clean] : [];
  const dir = posix.dirname(clean);
  const re = globToRegExp(posix.basename(clean));
  return existsSync(join(ROOT, dir))
    ? readdirSync(join(ROOT, dir))
        .filter((n) => re.test(n))
        .map((n) => posix.join(dir, n))
    : [];
}

// ---- docker-compose.yml ----------------------------------------------------------------------

type Service = {
  build?: string | { context?: string; dockerfile?: string };
  image?: string;
  command?: string[] | string;
  environment?: Record<string, string | number | boolean | null>;
  ports?: unknown[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  stop_grace_period?: string;
  restart?: unknown;
  volumes?: unknown[];
  profiles?: string[];
};

// Compose-style `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`.
function interpolate(value: string, env: Record<string, string | undefined>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (_, name: string, colon: string, op: string, word: string) => {
    const current = env[name];
    const missing = colon ? !current : current === undefined;
    if (!missing) return current!;
    if (op === '?') throw new Error(`required variable ${name} is missing: ${word}`);
    return op === '-' ? word : '';
  });
}

function goDurationMs(value: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.map((p) => p[0]).join('') !== value) throw new Error(`not a duration: ${value}`);
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit], 0);
}

const dependsOn = (service: Service): Record<string, string | undefined> =>
  Array.isArray(service.depends_on)
    ? Object.fromEntries(service.depends_on.map((name) => [name, undefined]))
    : Object.fromEntries(Object.entries(service.depends_on ?? {}).map(([name, d]) => [name, d?.condition]));

const testCommand = (service: Service) => (Array.isArray(service.healthcheck?.test) ? service.healthcheck.test.join(' ') : (service.healthcheck?.test ?? ''));

// ---- the app's configuration -----------------------------------------------------------------

const envSchemaSource = read('src/config/env.schema.ts');
const APP_VARIABLES = new Set([...envSchemaSource.matchAll(/^\s+([A-Z][A-Z0-9_]+)[?!]?:/gm)].map((m) => m[1]));
const COMPOSE_ONLY_VARIABLES = new Set(['POSTGRES_PASSWORD', 'GRAFANA_ADMIN_PASSWORD']);
const SHUTDOWN_GRACE_DEFAULT_MS = Number(/SHUTDOWN_GRACE_MS\s*:\s*number\s*=\s*([\d_]+)/.exec(envSchemaSource)![1].replace(/_/g, ''));

describe('container files', () => {
  const dockerfile = read('Dockerfile');
  const { globalArgs, stages } = stagesOf(parseDockerfile(dockerfile));
  const final = stages[stages.length - 1];
  const isIgnored = dockerignoreMatcher(read('.dockerignore'));

  const stageNamed = (name: string) => stages.find((s) => s.name === name);
  // The stage and the earlier stages it is built FROM, nearest first.
  const lineage = (stage: Stage): Stage[] => {
    const parent = stages.find((s) => s.name === stage.base && s.index < stage.index);
    return parent ? [stage, ...lineage(parent)] : [stage];
  };
  const workdirOf = (stage: Stage): string => {
    for (const s of lineage(stage)) {
      const dir = last(s, 'WORKDIR');
      if (dir) return dir.args;
    }
    return '/';
  };
  // Absolute paths a stage's COPY instructions place in the image, with where each came from.
  const placedBy = (stage: Stage): Map<string, Copy> => {
    const placed = new Map<string, Copy>();
    for (const copy of copiesOf(stage)) {
      const dest = posix.resolve(workdirOf(stage), copy.dest);
      const intoDir = copy.dest.endsWith('/') || copy.sources.length > 1;
      for (const source of copy.sources) placed.set(intoDir ? posix.join(dest, posix.basename(source)) : dest, copy);
    }
    return placed;
  };
  const resolveArgs = (value: string) => value.replace(/\$\{?(\w+)\}?/g, (_, name: string) => globalArgs[name] ?? '');

  describe('Dockerfile', () => {
    it('builds in several named stages', () => {
      expect(stages.length).toBeGreaterThanOrEqual(2);
      for (const stage of stages) expect(stage.name).toMatch(/^[a-z][\w.-]*$/);
      expect(new Set(stages.map((s) => s.name)).size).toBe(stages.length);
    });

    it('starts the runtime from a Debian slim Node image the app supports, not from a stage carrying the build toolchain', () => {
      expect(lineage(final)).toHaveLength(1);
      const image = /^node:(\d+)[\w.-]*-bookworm-slim(@sha256:[0-9a-f]{64})?$/.exec(resolveArgs(final.base));
      expect(image).not.toBeNull();
      const minimumMajor = Number(/>=\s*(\d+)/.exec(JSON.parse(read('package.json')).engines.node)![1]);
      expect(Number(image![1])).toBeGreaterThanOrEqual(minimumMajor);
    });

    it('compiles in a build stage after a full `npm ci`', () => {
      const builder = stages.find((s) => runsOf(s).some((r) => /\bnpm run build\b/.test(r)));
      expect(builder).toBeDefined();
      expect(builder).not.toBe(final);
      const installs = lineage(builder!)
        .flatMap(runsOf)
        .filter((r) => /\bnpm ci\b/.test(r));
      expect(installs.length).toBeGreaterThan(0);
      expect(installs.some((r) => !/--omit[= ]dev|--production/.test(r))).toBe(true);
      // NODE_ENV=production would make that `npm ci` skip the devDependencies the compiler needs.
      const env = lineage(builder!).flatMap((s) => s.instructions.filter((i) => i.keyword === 'ENV').map((i) => i.args));
      expect(env.filter((e) => /(^|\s)NODE_ENV[= ]"?production/.test(e))).toEqual([]);
    });

    it('has the Prisma schema, its config and the generate script in place before each `npm ci` (postinstall generates the client)', () => {
      const needed = ['prisma/schema.prisma', 'prisma.config.ts', 'scripts/prisma-generate.mjs'];
      for (const stage of stages.filter((s) => runsOf(s).some((r) => /\bnpm ci\b/.test(r)))) {
        const firstInstall = stage.instructions.findIndex((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.args));
        const before: Stage = { ...stage, instructions: stage.instructions.slice(0, firstInstall) };
        const placed = new Set(lineage(before).flatMap((s) => [...placedBy(s).keys()]));
        const workdir = workdirOf(stage);
        for (const file of needed) {
          const target = posix.join(workdir, file);
          const covered = [...placed].some((p) => p === target || target.startsWith(`${p}/`));
          expect({ stage: stage.name, file, covered }).toEqual({ stage: stage.name, file, covered: true });
        }
      }
    });

    it('ships node_modules from a production-only install and dist from the compiling stage', () => {
      const placed = placedBy(final);
      const workdir = workdirOf(final);
      const nodeModules = placed.get(posix.join(workdir, 'node_modules'));
      const dist = placed.get(posix.join(workdir, 'dist'));
      expect(nodeModules?.flags.from).toBeDefined();
      expect(dist?.flags.from).toBeDefined();

      const depsStage = stageNamed(nodeModules!.flags.from)!;
      expect(
        lineage(depsStage)
          .flatMap(runsOf)
          .some((r) => /\bnpm ci\b.*--omit[= ]dev/.test(r)),
      ).toBe(true);
      expect(nodeModules!.sources).toEqual([posix.join(workdirOf(depsStage), 'node_modules')]);

      const buildStage = stageNamed(dist!.flags.from)!;
      expect(runsOf(buildStage).some((r) => /\bnpm run build\b/.test(r))).toBe(true);
      expect(dist!.sources).toEqual([posix.join(workdirOf(buildStage), 'dist')]);

      // Installing again in the runtime stage would bring back dev dependencies or the toolchain.
      expect(runsOf(final).filter((r) => /\bnpm (ci|install|i)\b/.test(r))).toEqual([]);
    });

    it('gives the runtime image everything the app and the migration step read', () => {
      const placed = [...placedBy(final).keys()];
      const workdir = workdirOf(final);
      for (const file of ['package.json', 'dist', 'node_modules', 'prisma', 'scripts/db-migrate.mjs']) {
        expect(placed).toContain(posix.join(workdir, file));
      }
    });

    it('names only earlier stages in COPY --from', () => {
      for (const stage of stages) {
        for (const copy of copiesOf(stage).filter((c) => c.flags.from)) {
          const source = stageNamed(copy.flags.from);
          expect({ in: stage.name, from: copy.flags.from, earlier: !!source && source.index < stage.index }).toEqual({
            in: stage.name,
            from: copy.flags.from,
            earlier: true,
          });
        }
      }
    });

    it('copies from the build context only paths that exist and that .dockerignore lets through', () => {
      const contextCopies = stages.flatMap(copiesOf).filter((c) => !c.flags.from);
      expect(contextCopies.length).toBeGreaterThan(0);
      for (const copy of contextCopies) {
        for (const source of copy.sources) {
          const matches = contextMatches(source);
          expect({ source, exists: matches.length > 0 }).toEqual({ source, exists: true });
          for (const path of matches) {
            // A directory must not be ignored itself, and must bring at least one file along.
            const files = statSync(join(ROOT, path)).isDirectory() ? filesUnder(path) : [path];
            expect({ path, ignored: isIgnored(path) }).toEqual({ path, ignored: false });
            expect({ path, filesSent: files.some((f) => !isIgnored(f)) }).toEqual({ path, filesSent: true });
          }
        }
      }
    });

    it('sends the Prisma schema and every migration to the build', () => {
      const migrations = filesUnder('prisma/migrations');
      expect(migrations.some((f) => f.endsWith('/migration.sql'))).toBe(true);
      for (const file of ['prisma/schema.prisma', ...migrations]) expect({ file, ignored: isIgnored(file) }).toEqual({ file, ignored: false });
    });

    it('keeps secrets, host builds and VCS data out of the build context', () => {
      for (const path of [
        '.env',
        '.env.production',
        'node_modules',
        'node_modules/bcrypt/package.json',
        'dist/main.js',
        'src/generated/prisma/client.ts',
        '.git/HEAD',
        'coverage/lcov.info',
        'logs/app.log',
        'profile.cpuprofile',
      ]) {
        expect({ path, ignored: isIgnored(path) }).toEqual({ path, ignored: true });
      }
    });

    it('runs with NODE_ENV=production', () => {
      const env = final.instructions
        .filter((i) => i.keyword === 'ENV')
        .map((i) => i.args)
        .join(' ');
      expect(env).toMatch(/(^|\s)NODE_ENV=("?)production\2(\s|$)/);
    });

    it('runs as a non-root user', () => {
      const user = last(final, 'USER')?.args.split(':')[0];
      expect(user).toBeDefined();
      expect(['root', '0']).not.toContain(user);
    });

    it('hands the copied files to the runtime user', () => {
      const user = last(final, 'USER')!.args.split(':')[0];
      const copies = copiesOf(final);
      expect(copies.length).toBeGreaterThan(0);
      for (const copy of copies) expect({ dest: copy.dest, owner: copy.flags.chown?.split(':')[0] }).toEqual({ dest: copy.dest, owner: user });
    });

    it('exposes port 8000', () => {
      const exposed = final.instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
      expect(exposed.map((p) => p.replace(/\/tcp$/, ''))).toContain('8000');
    });

    it('declares a health check that probes the health route with node (no curl or wget in the slim image)', () => {
      const healthcheck = last(final, 'HEALTHCHECK');
      expect(healthcheck).toBeDefined();
      const { words: options } = splitArgs(healthcheck!.args);
      expect(options[0]).toBe('CMD'); // not NONE
      const { words } = splitArgs(healthcheck!.args.slice(healthcheck!.args.indexOf('CMD') + 3).trim());
      expect(words[0]).toBe('node');
      expect(words.join(' ')).toContain(HEALTH_PATH);
      expect(words.join(' ')).not.toMatch(/\b(curl|wget)\b/);
    });

    it('starts `node dist/main` in exec form so node receives SIGTERM', () => {
      const cmd = last(final, 'CMD');
      expect(cmd).toBeDefined();
      const { words, json } = splitArgs(cmd!.args);
      expect(json).toBe(true);
      expect(words).toEqual(['node', expect.stringMatching(/^(\.\/)?dist\/main(\.js)?$/)]);
      expect(last(final, 'ENTRYPOINT')).toBeUndefined();
    });
  });

  describe('docker-compose.yml', () => {
    const raw = read('docker-compose.yml');
    // YAML 1.1 is the stricter reading (unquoted `no` is false, `8000:8000` a number) and enables `<<` merges.
    const compose = parse(raw, { version: '1.1', merge: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
    const services = compose.services;
    const APP_SERVICES = ['migrate', 'api', 'worker'];
    const INPUTS = { JWT_SECRET: 'a-secret-of-at-least-16-chars' };
    const envOf = (name: string, inputs: Record<string, string> = INPUTS) =>
      Object.fromEntries(Object.entries(services[name].environment ?? {}).map(([k, v]) => [k, interpolate(String(v ?? ''), inputs)]));

    it('defines postgres, redis, migrate, api and worker, and prometheus and grafana in the observability profile', () => {
      expect(Object.keys(services).sort()).toEqual(['api', 'grafana', 'migrate', 'postgres', 'prometheus', 'redis', 'worker']);
      const profiled = Object.entries(services).filter(([, service]) => service.profiles);
      expect(profiled.map(([name, service]) => [name, service.profiles])).toEqual([
        ['prometheus', ['observability']],
        ['grafana', ['observability']],
      ]);
      // PostgreSQL 16 with pgvector, for vector search.
      expect(services.postgres.image).toMatch(/^pgvector\/pgvector:pg16/);
      expect(services.redis.image).toMatch(/^redis:7-alpine/);
    });

    it('refers only to variables the app knows, plus POSTGRES_PASSWORD', () => {
      expect(APP_VARIABLES).toContain('DATABASE_URL');
      const refs = [...raw.matchAll(/(?<!\$)\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g)].map((m) => m[1] ?? m[2]);
      expect(refs.length).toBeGreaterThan(0);
      expect(refs.filter((name) => !APP_VARIABLES.has(name) && !COMPOSE_ONLY_VARIABLES.has(name))).toEqual([]);
    });

    it('sets only variables the app knows in the app services', () => {
      for (const name of APP_SERVICES) {
        const unknown = Object.keys(services[name].environment ?? {}).filter((key) => !APP_VARIABLES.has(key));
        expect({ service: name, unknown }).toEqual({ service: name, unknown: [] });
      }
    });

    it('runs api and worker in their process roles', () => {
      expect(services.api.environment?.PROCESS_ROLE).toBe('api');
      expect(services.worker.environment?.PROCESS_ROLE).toBe('worker');
    });

    it('gives api and worker a configuration the app accepts in production', () => {
      for (const name of ['api', 'worker']) {
        const env = envOf(name);
        expect(env.NODE_ENV).toBe('production');
        expect(() => validateEnv(env)).not.toThrow();
      }
    });

    it('never bakes in a JWT secret: without one, api and worker get none', () => {
      for (const name of ['api', 'worker']) {
        let secret: string | undefined;
        try {
          secret = envOf(name, {}).JWT_SECRET;
        } catch {
          secret = undefined; // a `${JWT_SECRET:?...}` refusal
        }
        expect({ service: name, secret: secret || undefined }).toEqual({ service: name, secret: undefined });
      }
    });

    it('points the app services at the postgres and redis services', () => {
      for (const name of APP_SERVICES) {
        const url = new URL(envOf(name).DATABASE_URL);
        expect({ service: name, host: url.hostname, database: url.pathname }).toEqual({
          service: name,
          host: 'postgres',
          database: `/${services.postgres.environment?.POSTGRES_DB}`,
        });
        expect(decodeURIComponent(url.password)).toBe(interpolate(String(services.postgres.environment?.POSTGRES_PASSWORD), INPUTS));
      }
      for (const name of ['api', 'worker']) expect(new URL(envOf(name).REDIS_URL).hostname).toBe('redis');
    });

    it('builds the app services from this Dockerfile into one image', () => {
      const images = new Set<string | undefined>();
      for (const name of APP_SERVICES) {
        const build = services[name].build;
        const context = typeof build === 'string' ? build : build?.context;
        const file = (typeof build === 'object' && build.dockerfile) || 'Dockerfile';
        expect({ service: name, context: posix.normalize(context ?? ''), file }).toEqual({ service: name, context: '.', file: 'Dockerfile' });
        images.add(services[name].image);
      }
      expect(images.size).toBe(1);
    });

    it('runs the migration once with the script the image contains, after postgres is healthy', () => {
      const migrate = services.migrate;
      const command = Array.isArray(migrate.command) ? migrate.command : String(migrate.command).split(/\s+/);
      expect(command).toEqual(['node', 'scripts/db-migrate.mjs', 'deploy']);
      expect([...placedBy(final).keys()]).toContain(posix.join(workdirOf(final), command[1]));
      expect(migrate.restart).toBe('no');
      expect(dependsOn(migrate)).toEqual({ postgres: 'service_healthy' });
      expect(migrate.ports).toBeUndefined();
    });

    it('starts api and worker only once postgres and redis are healthy and the migration has succeeded', () => {
      for (const name of ['api', 'worker']) {
        expect({ service: name, dependsOn: dependsOn(services[name]) }).toEqual({
          service: name,
          dependsOn: { postgres: 'service_healthy', redis: 'service_healthy', migrate: 'service_completed_successfully' },
        });
      }
    });

    it('health-checks postgres, redis and api', () => {
      expect(testCommand(services.postgres)).toMatch(/\bpg_isready\b/);
      expect(testCommand(services.redis)).toMatch(/\bredis-cli\b.*\bping\b/);
      expect(testCommand(services.api)).toContain(HEALTH_PATH);
      expect(testCommand(services.api)).not.toMatch(/\b(curl|wget)\b/);
      for (const name of ['postgres', 'redis', 'api']) expect(services[name].healthcheck?.disable).not.toBe(true);
    });

    it('gives every service awaited with service_healthy a health check', () => {
      for (const service of Object.values(services)) {
        for (const [dep, condition] of Object.entries(dependsOn(service))) {
          if (condition !== 'service_healthy') continue;
          const own = testCommand(services[dep]) !== '';
          const fromImage = APP_SERVICES.includes(dep) && last(final, 'HEALTHCHECK') !== undefined;
          expect({ dep, healthcheck: own || fromImage }).toEqual({ dep, healthcheck: true });
        }
      }
    });

    it('publishes postgres and redis on loopback only, api on 8000, and nothing for worker and migrate', () => {
      expect(services.postgres.ports).toEqual(['127.0.0.1:5432:5432']);
      expect(services.redis.ports).toEqual(['127.0.0.1:6379:6379']);
      expect(services.api.ports).toEqual(['8000:8000']);
      expect(services.worker.ports).toBeUndefined();
    });

    it('keeps the database in a named volume', () => {
      const mount = (services.postgres.volumes ?? []).map(String).find((v) => v.endsWith(':/var/lib/postgresql/data'));
      expect(mount).toBeDefined();
      const volume = mount!.split(':')[0];
      expect(volume).toMatch(/^[a-z][\w-]*$/); // a name, not a host path
      expect(Object.keys(compose.volumes ?? {})).toContain(volume);
    });

    it('lets api and worker shut down gracefully before Docker kills them', () => {
      for (const name of ['api', 'worker']) {
        const graceMs = Number(envOf(name).SHUTDOWN_GRACE_MS || SHUTDOWN_GRACE_DEFAULT_MS);
        const stopMs = goDurationMs(services[name].stop_grace_period ?? '10s'); // Docker's default is 10s
        expect({ service: name, longerThanGrace: stopMs > graceMs }).toEqual({ service: name, longerThanGrace: true });
      }
    });
  });
});
