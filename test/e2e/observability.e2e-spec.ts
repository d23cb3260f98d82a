import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { startTestApp, TestApp } from '../support/test-app';

const ROOT = join(__dirname, '..', '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: { expr: string; datasource?: { uid: string } }[];
}
interface Compose {
  services: Record<string, { profiles?: string[]; volumes?: string[]; ports?: string[]; depends_on?: Record<string, { condition: string }> }>;
  volumes: Record<string, unknown>;
}

// The compose profile `observability` and the Grafana dashboard in docs/ (Docker does not run in
// CI: the files are checked by parsing them, and every metric the dashboard queries against the
// service's real /metrics).
describe('observability files (e2e)', () => {
  const compose = parse(read('docker-compose.yml'), { version: '1.1', merge: true }) as Compose;
  const dashboard = JSON.parse(read('docs/observability/grafana-dashboard.json')) as {
    uid: string;
    panels: Panel[];
    templating: { list: { query: { query: string } }[] };
  };
  const prometheus = parse(read('docs/observability/prometheus.yml')) as { scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[] };
  const datasources = parse(read('docs/observability/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string; url: string; type: string }[] };
  const providers = parse(read('docs/observability/grafana/provisioning/dashboards/dashboards.yml')) as { providers: { options: { path: string } }[] };
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('mounts files that exist, into the paths the provisioning reads', () => {
    const mounts = ['prometheus', 'grafana'].flatMap((name) => (compose.services[name].volumes ?? []).map((volume) => volume.split(':')));
    for (const [source, target] of mounts.filter(([source]) => source.startsWith('./'))) {
      expect({ source, exists: existsSync(join(ROOT, source)) }).toEqual({ source, exists: true });
      expect(target).toMatch(/^\/(etc|var\/lib)\//);
    }
    const grafanaMounts = Object.fromEntries(mounts.map(([source, target]) => [target, source]));
    expect(grafanaMounts['/etc/prometheus/prometheus.yml']).toBe('./docs/observability/prometheus.yml');
    expect(grafanaMounts['/etc/grafana/provisioning']).toBe('./docs/observability/grafana/provisioning');
    expect(grafanaMounts[`${providers.providers[0].options.path}/ai-chat-service.json`]).toBe('./docs/observability/grafana-dashboard.json');
    for (const volume of mounts.filter(([source]) => !source.startsWith('./')).map(([source]) => source)) expect(Object.keys(compose.volumes)).toContain(volume);
    expect(compose.services.prometheus.ports).toEqual(['127.0.0.1:9090:9090']);
    expect(compose.services.grafana.ports).toEqual(['127.0.0.1:3000:3000']);
    expect(compose.services.grafana.depends_on).toEqual({ prometheus: { condition: 'service_healthy' } });
  });

  it('scrapes /metrics of api and worker, and gives Grafana that Prometheus under the uid the panels name', async () => {
    expect(prometheus.scrape_configs).toEqual([expect.objectContaining({ metrics_path: '/metrics', static_configs: [{ targets: ['api:8000', 'worker:8000'] }] })]);
    expect(datasources.datasources).toEqual([expect.objectContaining({ type: 'prometheus', uid: 'prometheus', url: 'http://prometheus:9090' })]);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({ panel: panel.title, uid: 'prometheus' });
      expect(panel.targets?.length).toBeGreaterThan(0);
    }
    await t.http.get('/metrics').expect(200);
  });

  it('queries only metrics the service exports, and covers latency, TTFT, tokens, cost, errors, sockets and queue depth', async () => {
    const exported = new Set(
      [...(await t.http.get('/metrics').expect(200)).text.matchAll(/^# TYPE (\w+) (\w+)/gm)].flatMap(([, name, type]) =>
        type === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name],
      ),
    );
    const expressions = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((target) => target.expr)), ...dashboard.templating.list.map((v) => v.query.query)];
    const FUNCTIONS = new Set(['histogram_quantile', 'sum', 'by', 'rate', 'increase', 'max', 'le', 'label_values', 'role', 'without']);
    const used = new Set(expressions.flatMap((expr) => [...expr.replace(/\{[^}]*\}|\[[^\]]*\]|"[^"]*"/g, '').matchAll(/[a-z_][a-z0-9_]*/g)].map((m) => m[0])));
    const metrics = [...used].filter(
      (name) => !FUNCTIONS.has(name) && !/^(method|route|model|kind|code|status|outcome|transport|from|to|result|bucket|state|instance)$/.test(name),
    );
    expect(metrics.filter((name) => !exported.has(name))).toEqual([]);
    for (const needed of [
      'http_request_duration_seconds_bucket',
      'ai_time_to_first_token_seconds_bucket',
      'ai_tokens_total',
      'ai_cost_usd_total',
      'ai_upstream_errors_total',
      'ws_connections',
      'ai_queue_jobs',
    ]) {
      expect(metrics).toContain(needed);
    }
  });
});
