// Renders the REST part of docs/api.md from the service's OpenAPI document (GET /api/docs-json),
// so the reference cannot drift from the decorators. test/e2e/docs.e2e-spec.ts compares the
// rendering with the text between the markers in docs/api.md; `npm run docs:api` rewrites it.
//
// Pure and deterministic: the same document always gives the same text. Tags come in a fixed
// order (unknown ones after, alphabetically), routes by path then method, responses by status.
// Schema properties keep their declaration order (it is the DTO author's), required ones first.

import { STATUS_CODES } from 'node:http';

const TAG_ORDER = ['auth', 'ai', 'conversations', 'prompts', 'knowledge', 'ai-jobs', 'health'];
const METHOD_ORDER = ['get', 'post', 'put', 'patch', 'delete', 'head', 'options', 'trace'];
const UNTAGGED = 'other';

/**
 * The markdown for every route of an OpenAPI 3 document, grouped by tag.
 * @param {any} openApiDocument  The parsed JSON of GET /api/docs-json.
 * @returns {string}  Markdown ending with one newline.
 */
export function renderRoutes(openApiDocument) {
  const doc = openApiDocument;
  const schemas = doc.components?.schemas ?? {};
  const routes = collectRoutes(doc);
  const groups = groupByTag(routes);
  const out = [];

  out.push('## REST routes', '');
  out.push('| Method | Path | Token | Summary |', '|---|---|---|---|');
  for (const [, groupRoutes] of groups) {
    for (const route of groupRoutes) {
      const link = `[\`${route.path}\`](#${slug(headingOf(route))})`;
      out.push(`| ${route.method.toUpperCase()} | ${link} | ${needsToken(route, doc) ? 'yes' : 'no'} | ${cell(route.operation.summary ?? '')} |`);
    }
  }
  out.push('');

  for (const [tag, groupRoutes] of groups) {
    out.push(`## REST: ${tag}`, '');
    const description = (doc.tags ?? []).find((t) => t.name === tag)?.description;
    if (description) out.push(description, '');
    for (const route of groupRoutes) out.push(...renderRoute(route, doc, schemas));
  }
  while (out.length && out[out.length - 1] === '') out.pop();
  return out.join('\n') + '\n';
}

function collectRoutes(doc) {
  const routes = [];
  for (const path of Object.keys(doc.paths ?? {}).sort()) {
    const item = doc.paths[path];
    const methods = Object.keys(item)
      .filter((m) => METHOD_ORDER.includes(m))
      .sort((a, b) => METHOD_ORDER.indexOf(a) - METHOD_ORDER.indexOf(b));
    for (const method of methods) {
      const operation = item[method];
      // Path-level parameters apply to every operation; the operation's own win on a name clash.
      const own = operation.parameters ?? [];
      const shared = (item.parameters ?? []).filter((p) => !own.some((o) => o.name === p.name && o.in === p.in));
      routes.push({ path, method, operation, parameters: [...shared, ...own] });
    }
  }
  return routes;
}

function groupByTag(routes) {
  const groups = new Map();
  for (const route of routes) {
    const tag = route.operation.tags?.[0] ?? UNTAGGED;
    if (!groups.has(tag)) groups.set(tag, []);
    groups.get(tag).push(route);
  }
  const rank = (tag) => (TAG_ORDER.includes(tag) ? TAG_ORDER.indexOf(tag) : tag === UNTAGGED ? Infinity : TAG_ORDER.length);
  return [...groups.entries()].sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function renderRoute(route, doc, schemas) {
  const { operation } = route;
  const out = [`### ${headingOf(route)}`, ''];
  if (operation.deprecated) out.push('**Deprecated.**', '');
  if (operation.summary) out.push(sentence(operation.summary), '');
  if (operation.description) out.push(operation.description, '');
  out.push(needsToken(route, doc) ? 'Token: required (`Authorization: Bearer <accessToken>`).' : 'Token: none (public route).', '');

  const parameters = route.parameters.filter((p) => p.in === 'path' || p.in === 'query');
  if (parameters.length > 0) {
    const inOrder = { path: 0, query: 1 };
    const sorted = [...parameters].sort((a, b) => inOrder[a.in] - inOrder[b.in] || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    out.push('Parameters:', '', '| Name | In | Type | Required | Constraints | Description |', '|---|---|---|---|---|---|');
    for (const p of sorted) {
      const schema = p.schema ?? {};
      const constraints = constraintsOf(schema);
      out.push(`| \`${p.name}\` | ${p.in} | ${typeOf(schema)} | ${p.required ? 'yes' : 'no'} | ${constraints} | ${cell(p.description ?? schema.description ?? '')} |`);
    }
    out.push('');
  }

  const body = operation.requestBody;
  if (body) {
    const [contentType, media] = firstContent(body.content);
    const schema = media?.schema;
    const name = refName(schema);
    const format = !contentType || contentType === 'application/json' ? 'JSON' : `\`${contentType}\``;
    const label = `Request body (${[format, name && `\`${name}\``, !body.required && 'optional'].filter(Boolean).join(', ')}):`;
    out.push(label, '');
    out.push(...requestTable(resolve(schema, schemas), schemas), '');
  }

  out.push('Responses:', '', '| Status | Description |', '|---|---|');
  const statuses = Object.keys(operation.responses ?? {}).sort(compareStatus);
  for (const status of statuses) {
    const response = operation.responses[status];
    // A response declared without a description reads as its reason phrase ("Created").
    out.push(`| ${status} | ${cell(response.description || STATUS_CODES[status] || '')} |`);
  }
  out.push('');
  for (const status of statuses.filter((s) => /^2/.test(s))) {
    const [, media] = firstContent(operation.responses[status].content);
    const schema = media?.schema;
    if (!schema) continue;
    out.push(...responseBody(status, schema, schemas), '');
  }
  return out;
}

function responseBody(status, schema, schemas) {
  if (schema.type === 'array' && schema.items) {
    const name = refName(schema.items);
    const item = resolve(schema.items, schemas);
    return [
      `Response \`${status}\`: an array of ${name ? `\`${name}\`` : typeOf(schema.items)}${item?.properties ? ':' : '.'}`,
      ...(item?.properties ? ['', ...responseTable(item, schemas)] : []),
    ];
  }
  const name = refName(schema);
  const resolved = resolve(schema, schemas);
  if (!resolved?.properties) return [`Response \`${status}\`: ${typeOf(schema)}.`];
  return [`Response \`${status}\`${name ? ` (\`${name}\`)` : ''}:`, '', ...responseTable(resolved, schemas)];
}

function requestTable(schema, schemas) {
  if (!schema?.properties) return [`${typeOf(schema ?? {})}`];
  const rows = ['| Field | Type | Required | Constraints | Description |', '|---|---|---|---|---|'];
  for (const { path, property, required } of flatten(schema, schemas)) {
    rows.push(`| \`${path}\` | ${typeOf(property)} | ${required ? 'yes' : 'no'} | ${constraintsOf(property)} | ${cell(property.description ?? '')} |`);
  }
  return rows;
}

function responseTable(schema, schemas) {
  const rows = ['| Field | Type | Description |', '|---|---|---|'];
  for (const { path, property, required } of flatten(schema, schemas)) {
    const notes = [cell(property.description ?? ''), required ? '' : 'May be absent.'].filter(Boolean).join(' ');
    rows.push(`| \`${path}\` | ${typeOf(property)} | ${notes} |`);
  }
  return rows;
}

// The properties of a schema, required ones first (declaration order otherwise). A property that
// is a $ref, or an array of $refs, is followed by the properties of that schema (one level deep),
// named `parent.child` or `parent[].child`.
function flatten(schema, schemas, prefix = '', depth = 0) {
  const required = new Set(schema.required ?? []);
  const names = Object.keys(schema.properties ?? {});
  const ordered = [...names.filter((n) => required.has(n)), ...names.filter((n) => !required.has(n))];
  const rows = [];
  for (const name of ordered) {
    const property = schema.properties[name];
    const path = `${prefix}${name}`;
    rows.push({ path, property, required: required.has(name) });
    if (depth > 0) continue;
    const isArray = property.type === 'array' && property.items;
    const target = isArray ? property.items : property;
    const nested = refName(target) ? resolve(target, schemas) : undefined;
    if (nested?.properties) rows.push(...flatten(nested, schemas, `${path}${isArray ? '[]' : ''}.`, depth + 1));
  }
  return rows;
}

// A TypeScript-like type: `string (uuid)`, `number | null`, `"a" | "b"`, `MessageResponseDto[]`.
function typeOf(schema) {
  if (!schema) return '';
  const ref = refName(schema);
  if (ref) return `\`${ref}\``;
  if (schema.allOf?.length === 1) return withNull(typeOf(schema.allOf[0]), schema);
  const union = schema.oneOf ?? schema.anyOf;
  if (union) return withNull(union.map(typeOf).join(' \\| '), schema);
  let type;
  if (Array.isArray(schema.enum)) {
    type = schema.enum.map((v) => cell(JSON.stringify(v))).join(' \\| ');
  } else if (schema.type === 'array') {
    const item = typeOf(schema.items ?? {}) || 'any';
    if (/^`[^`]+`$/.test(item)) type = `${item.slice(0, -1)}[]\``;
    else type = item.includes('\\|') ? `(${item})[]` : `${item}[]`;
  } else {
    type = schema.type ?? 'any';
    if (schema.format) type += ` (${schema.format})`;
  }
  return withNull(type, schema);
}

function withNull(type, schema) {
  return schema.nullable ? `${type} \\| null` : type;
}

function constraintsOf(schema) {
  const parts = [];
  if (schema.minLength !== undefined && schema.maxLength !== undefined) parts.push(`${schema.minLength}–${schema.maxLength} characters`);
  else if (schema.minLength !== undefined) parts.push(`at least ${schema.minLength} character${schema.minLength === 1 ? '' : 's'}`);
  else if (schema.maxLength !== undefined) parts.push(`at most ${schema.maxLength} characters`);
  if (schema.minimum !== undefined && schema.maximum !== undefined) parts.push(`${schema.minimum}–${schema.maximum}`);
  else if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  else if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  if (typeof schema.exclusiveMinimum === 'number') parts.push(`> ${schema.exclusiveMinimum}`);
  if (typeof schema.exclusiveMaximum === 'number') parts.push(`< ${schema.exclusiveMaximum}`);
  if (schema.minItems !== undefined) parts.push(`at least ${schema.minItems} items`);
  if (schema.maxItems !== undefined) parts.push(`at most ${schema.maxItems} items`);
  if (schema.pattern !== undefined) parts.push(`matches \`${schema.pattern}\``);
  if (schema.default !== undefined) parts.push(`default \`${JSON.stringify(schema.default)}\``);
  return parts.map(cell).join('; ');
}

function needsToken(route, doc) {
  const security = route.operation.security ?? doc.security ?? [];
  return security.some((requirement) => Object.keys(requirement).length > 0);
}

function headingOf(route) {
  return `${route.method.toUpperCase()} ${route.path}`;
}

// GitHub's heading anchors: lower case, punctuation other than `-` and `_` dropped, spaces to `-`.
function slug(text) {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function firstContent(content) {
  if (!content) return [undefined, undefined];
  const type = content['application/json'] ? 'application/json' : Object.keys(content).sort()[0];
  return [type, content[type]];
}

function refName(schema) {
  const ref = schema?.$ref ?? (schema?.allOf?.length === 1 ? schema.allOf[0].$ref : undefined);
  return typeof ref === 'string' ? ref.split('/').pop() : undefined;
}

function resolve(schema, schemas) {
  const name = refName(schema);
  return name ? schemas[name] : schema;
}

function compareStatus(a, b) {
  const rank = (s) => (/^\d+$/.test(s) ? Number(s) : s === 'default' ? 1000 : 999);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

function sentence(text) {
  const trimmed = text.trim();
  return /[.!?]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

// Table cells: one line, pipes escaped.
function cell(text) {
  return String(text)
    .replace(/\r?\n/g, ' ')
    .replace(/(?<!\\)\|/g, '\\|');
}
