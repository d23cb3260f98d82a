import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfigService } from '../config/app-config.service';
import { PrismaService } from '../prisma/prisma.service';

export const VECTOR_UNAVAILABLE_MESSAGE = 'Vector search needs the pgvector extension';

export interface VectorState {
  isAvailable: boolean;
  // Why it is off, for logs and /health.
  reason: string | null;
  // pgvector's version in this database (null: not installed).
  version: string | null;
  // The `embedding` column's dimension (null: no column).
  dimensions: number | null;
  // pgvector >= 0.8: an HNSW scan with a filter goes on until it has enough rows (hnsw.iterative_scan).
  hasIterativeScan: boolean;
}

interface Detected {
  version: string | null;
  dimensions: number | null;
  hasIndex: boolean;
}

const RETRY_MS = 5_000;

// Whether this database can do vector search: pgvector installed, the chunk table's `embedding`
// column there with the dimension of RAG_EMBEDDING_DIMENSIONS, and its HNSW index. Read once at
// start-up (again every few seconds while PostgreSQL cannot be reached). The schema itself is made
// by the migrations and `npm run db:migrate`, never by the service: installing pgvector later means
// running `npm run db:migrate` again, then restarting (docs/knowledge.md).
@Injectable()
export class VectorSupport implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(VectorSupport.name);
  private current: VectorState = { isAvailable: false, reason: 'not checked yet', version: null, dimensions: null, hasIterativeScan: false };
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly prisma: PrismaService,
    private readonly config: AppConfigService,
  ) {}

  get state(): VectorState {
    return this.current;
  }

  get isAvailable(): boolean {
    return this.current.isAvailable;
  }

  async onModuleInit(): Promise<void> {
    await this.detect();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.retry);
  }

  private async detect(): Promise<void> {
    let detected: Detected;
    try {
      [detected] = await this.prisma.$queryRaw<Detected[]>`
        SELECT e.extversion AS "version",
               a.atttypmod AS "dimensions",
               EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'DocumentChunk_embedding_idx') AS "hasIndex"
        FROM (SELECT 1) AS one
        LEFT JOIN pg_extension e ON e.extname = 'vector'
        LEFT JOIN pg_attribute a ON a.attrelid = to_regclass('"DocumentChunk"') AND a.attname = 'embedding' AND NOT a.attisdropped`;
    } catch (error) {
      this.logger.warn({ err: error }, `could not check for pgvector; trying again in ${RETRY_MS / 1000} s`);
      this.retry = setTimeout(() => void this.detect(), RETRY_MS).unref();
      return;
    }
    this.current = this.stateOf(detected);
    if (this.current.isAvailable) this.logger.log(`vector search on: pgvector ${detected.version}, vector(${detected.dimensions})`);
    else this.logger.warn(`vector search off: ${this.current.reason}`);
  }

  private stateOf({ version, dimensions, hasIndex }: Detected): VectorState {
    const expected = this.config.get('RAG_EMBEDDING_DIMENSIONS');
    const off = (reason: string): VectorState => ({ isAvailable: false, reason, version, dimensions, hasIterativeScan: false });
    if (!version) return off('the database has no pgvector extension (install it, then run npm run db:migrate)');
    if (dimensions === null) return off('pgvector is installed but DocumentChunk has no embedding column (run npm run db:migrate)');
    if (dimensions !== expected) {
      return off(`RAG_EMBEDDING_DIMENSIONS is ${expected} but the embedding column is vector(${dimensions}) (run npm run db:migrate, or set it to ${dimensions})`);
    }
    if (!hasIndex) return off('the embedding column has no HNSW index (run npm run db:migrate)');
    return { isAvailable: true, reason: null, version, dimensions, hasIterativeScan: isAtLeast(version, [0, 8]) };
  }
}

function isAtLeast(version: string, [major, minor]: [number, number]): boolean {
  const [m, n] = version.split('.').map(Number);
  return m > major || (m === major && n >= minor);
}
