import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AppConfigService } from '../config/app-config.service';

export type TokenKind = 'prompt' | 'completion' | 'embedding';

// Model names come from callers; past this many distinct values they are reported as "other"
// so that label cardinality stays bounded.
const MAX_MODEL_LABELS = 20;
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

// One registry per app instance (tests run several in one process). Labels never carry user ids or raw URLs.
export type ModerationCheckResult = 'allowed' | 'flagged' | 'blocked' | 'error';

@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly models = new Set<string>();

  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status',
    labelNames: ['method', 'route', 'status'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly aiDuration = new Histogram({
    name: 'ai_request_duration_seconds',
    help: 'Upstream AI call duration by model, transport, kind and outcome',
    labelNames: ['model', 'transport', 'kind', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly ttft = new Histogram({
    name: 'ai_time_to_first_token_seconds',
    help: 'Time from the upstream call to its first streamed token',
    labelNames: ['model', 'transport'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly tokens = new Counter({
    name: 'ai_tokens_total',
    help: 'Tokens used, by model and kind (prompt, completion, embedding)',
    labelNames: ['model', 'kind'],
    registers: [this.registry],
  });
  private readonly upstreamErrors = new Counter({
    name: 'ai_upstream_errors_total',
    help: 'Failed upstream AI calls by mapped error code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly wsConnections = new Gauge({
    name: 'ws_connections',
    help: 'Open Socket.IO connections on /ai (this instance)',
    registers: [this.registry],
  });
  private readonly activeStreams = new Gauge({
    name: 'ai_active_streams',
    help: 'Chat streams running (this instance)',
    registers: [this.registry],
  });
  private readonly cost = new Counter({
    name: 'ai_cost_usd_total',
    help: 'Cost of AI calls in USD at the registry prices, by model (models without a price add nothing)',
    labelNames: ['model'],
    registers: [this.registry],
  });

  private readonly fallbacks = new Counter({
    name: 'ai_fallbacks_total',
    help: 'Calls answered by a fallback model because the chosen one failed before its first token',
    labelNames: ['from', 'to'],
    registers: [this.registry],
  });

  private readonly moderationChecks = new Counter({
    name: 'ai_moderation_checks_total',
    help: 'Content moderation checks by result (allowed, flagged, blocked, error)',
    labelNames: ['result'],
    registers: [this.registry],
  });

  private readonly rateLimited = new Counter({
    name: 'rate_limit_rejections_total',
    help: 'Requests refused by a rate limit, by bucket',
    labelNames: ['bucket'],
    registers: [this.registry],
  });

  constructor(config: AppConfigService) {
    this.registry.setDefaultLabels({ role: config.get('PROCESS_ROLE') });
    collectDefaultMetrics({ register: this.registry });
    this.models.add(config.get('OPENAI_MODEL')).add(config.get('OPENAI_EMBEDDING_MODEL'));
  }

  observeHttpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, seconds);
  }

  observeAiCall(call: { model: string; transport: string; kind: string; outcome: string; seconds: number }): void {
    this.aiDuration.observe({ model: this.modelLabel(call.model), transport: call.transport, kind: call.kind, outcome: call.outcome }, call.seconds);
  }

  observeTimeToFirstToken(model: string, transport: string, seconds: number): void {
    this.ttft.observe({ model: this.modelLabel(model), transport }, seconds);
  }

  countTokens(model: string, kind: TokenKind, count: number): void {
    if (count > 0) this.tokens.inc({ model: this.modelLabel(model), kind }, count);
  }

  countUpstreamError(code: string): void {
    this.upstreamErrors.inc({ code });
  }

  countCost(model: string, costUsd: number | null): void {
    if (costUsd) this.cost.inc({ model: this.modelLabel(model) }, costUsd);
  }

  countFallback(from: string, to: string): void {
    this.fallbacks.inc({ from: this.modelLabel(from), to: this.modelLabel(to) });
  }

  countModerationCheck(result: ModerationCheckResult): void {
    this.moderationChecks.inc({ result });
  }

  socketConnected(): void {
    this.wsConnections.inc();
  }

  socketDisconnected(): void {
    this.wsConnections.dec();
  }

  streamStarted(): void {
    this.activeStreams.inc();
  }

  streamEnded(): void {
    this.activeStreams.dec();
  }

  countRateLimitRejection(bucket: string): void {
    this.rateLimited.inc({ bucket });
  }

  // Lets the queue module report its depth at scrape time without this module depending on Bull.
  registerQueueDepth(queue: string, readCounts: () => Promise<Record<string, number>>): void {
    new Gauge({
      name: 'ai_queue_jobs',
      help: 'Jobs in the queue by state',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        const counts = await readCounts().catch(() => ({}));
        for (const [state, count] of Object.entries(counts)) this.set({ queue, state }, count);
      },
    });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  private modelLabel(model: string): string {
    if (this.models.has(model)) return model;
    if (this.models.size < MAX_MODEL_LABELS) {
      this.models.add(model);
      return model;
    }
    return 'other';
  }
}
