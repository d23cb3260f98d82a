import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderRoutes } from '../../scripts/render-api-docs.mjs';
import { startTestApp, TestApp } from '../support/test-app';

const API_DOC = join(__dirname, '..', '..', 'docs', 'api.md');
const ROUTES_START = '<!-- routes:start -->';
const ROUTES_END = '<!-- routes:end -->';

describe('OpenAPI document (e2e)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('serves Swagger UI at /api/docs', async () => {
    const res = await t.http.get('/api/docs').redirects(1).expect(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('swagger');
  });

  it('documents every REST route with bearer auth and the DTO fields', async () => {
    const { body } = await t.http.get('/api/docs-json').expect(200);
    expect(body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(body.paths).sort()).toEqual([
      '/api/v1/admin/audit',
      '/api/v1/admin/usage',
      '/api/v1/admin/users',
      '/api/v1/admin/users/{id}',
      '/api/v1/ai/chat',
      '/api/v1/ai/chat/stream',
      '/api/v1/ai/conversations',
      '/api/v1/ai/conversations/{id}',
      '/api/v1/ai/conversations/{id}/export',
      '/api/v1/ai/conversations/{id}/messages/{messageId}/regenerate',
      '/api/v1/ai/conversations/{id}/tree',
      '/api/v1/ai/documents',
      '/api/v1/ai/documents/{id}',
      '/api/v1/ai/embeddings',
      '/api/v1/ai/jobs/completion',
      '/api/v1/ai/jobs/embeddings',
      '/api/v1/ai/jobs/{jobId}',
      '/api/v1/ai/models',
      '/api/v1/ai/prompts',
      '/api/v1/ai/prompts/{id}',
      '/api/v1/ai/search',
      '/api/v1/ai/streams',
      '/api/v1/ai/streams/{streamId}/events',
      '/api/v1/ai/streams/{streamId}/stop',
      '/api/v1/ai/usage',
      '/api/v1/ai/usage/daily',
      '/api/v1/auth/login',
      '/api/v1/auth/me',
      '/api/v1/auth/refresh',
      '/api/v1/auth/register',
      '/api/v1/health',
    ]);
    const schemas = body.components.schemas;
    expect(Object.keys(schemas.ChatRequestDto.properties).sort()).toEqual([
      'conversationId',
      'knowledge',
      'maxTokens',
      'message',
      'model',
      'parentMessageId',
      'promptId',
      'temperature',
      'variables',
    ]);
    // Exactly one of message and promptId: neither is required on its own.
    expect(schemas.ChatRequestDto.required).toBeUndefined();
    expect(schemas.ChatRequestDto.properties.conversationId).toMatchObject({ type: 'string', format: 'uuid', nullable: true });
    expect(Object.keys(schemas.ChatResponseDto.properties).sort()).toEqual([
      'citations',
      'content',
      'conversationId',
      'costUsd',
      'createdAt',
      'messageId',
      'model',
      'tokens',
    ]);
    // Only retrieval-augmented answers carry citations.
    expect(schemas.ChatResponseDto.required).not.toContain('citations');
    expect(Object.keys(schemas.RegisterDto.properties).sort()).toEqual(['email', 'name', 'password']);
    expect(Object.keys(schemas.PromptResponseDto.properties)).toEqual(['id', 'name', 'description', 'template', 'variables', 'createdAt', 'updatedAt']);
    expect(schemas.CreatePromptDto.required).toEqual(['name', 'template']);
    expect(Object.keys(schemas.DocumentResponseDto.properties)).toEqual(['id', 'title', 'mimeType', 'sizeBytes', 'status', 'chunkCount', 'failedReason', 'createdAt']);
    expect(Object.keys(body.paths['/api/v1/ai/documents'].post.requestBody.content).sort()).toEqual(['application/json', 'multipart/form-data']);
    expect(Object.keys(schemas.SearchResultDto.properties)).toEqual(['documentId', 'documentTitle', 'chunkId', 'content', 'score']);
    expect(Object.keys(schemas.UsageResponseDto.properties).sort()).toEqual([
      'byModel',
      'conversationsCount',
      'lastUsed',
      'messagesCount',
      'totalCostUsd',
      'totalTokens',
    ]);
    expect(Object.keys(schemas.RegenerateRequestDto.properties).sort()).toEqual(['maxTokens', 'model', 'temperature']);
    expect(Object.keys(schemas.UpdateConversationDto.properties).sort()).toEqual(['archived', 'pinned', 'systemPrompt', 'title']);
    expect(Object.keys(schemas.ConversationResponseDto.properties)).toEqual([
      'id',
      'title',
      'systemPrompt',
      'userId',
      'messageCount',
      'totalTokens',
      'totalCostUsd',
      'pinned',
      'archived',
      'createdAt',
      'updatedAt',
    ]);
    expect(Object.keys(schemas.MessageResponseDto.properties).slice(0, 3)).toEqual(['id', 'parentId', 'siblingIds']);
    expect(body.paths['/api/v1/ai/conversations/{id}/messages/{messageId}/regenerate'].post.responses['201'].content['application/json'].schema.$ref).toBe(
      '#/components/schemas/ChatResponseDto',
    );
    expect(body.paths['/api/v1/ai/conversations'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['archived', 'limit', 'page', 'q']);
    expect(body.paths['/api/v1/ai/conversations/{id}/export'].get.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['format', 'id', 'leafId']);
    expect(Object.keys(schemas.ProfileResponseDto.properties)).toEqual(['id', 'email', 'name', 'createdAt', 'totalTokensUsed', 'tokenLimit', 'role']);
    expect(Object.keys(schemas.DailyUsageResponseDto.properties)).toEqual(['from', 'to', 'days']);
    expect(Object.keys(schemas.DailyModelUsageDto.properties).sort()).toEqual([
      'completionTokens',
      'costUsd',
      'date',
      'model',
      'promptTokens',
      'requests',
      'totalTokens',
    ]);
    expect(Object.keys(schemas.AdminUserResponseDto.properties)).toEqual([
      'id',
      'email',
      'name',
      'role',
      'disabled',
      'tokenLimit',
      'totalTokensUsed',
      'totalCostUsd',
      'lastActiveAt',
      'createdAt',
    ]);
    expect(Object.keys(schemas.UpdateUserDto.properties)).toEqual(['tokenLimit', 'disabled', 'role']);
    expect(schemas.UpdateUserDto.required).toBeUndefined();
    expect(Object.keys(schemas.AdminUsageResponseDto.properties)).toEqual(['from', 'to', 'groupBy', 'totals', 'groups']);
    expect(Object.keys(schemas.AuditEntryResponseDto.properties)).toEqual([
      'id',
      'actorId',
      'actorEmail',
      'action',
      'targetId',
      'targetEmail',
      'before',
      'after',
      'createdAt',
    ]);
    expect(body.paths['/api/v1/admin/users/{id}'].patch.responses['403']).toBeDefined();
    expect(body.paths['/api/v1/ai/chat'].post.security).toEqual([{ bearer: [] }]);
    expect(body.paths['/api/v1/ai/chat'].post.responses['201'].content['application/json'].schema.$ref).toBe('#/components/schemas/ChatResponseDto');
    // The SSE route takes the /chat body as it is.
    expect(body.paths['/api/v1/ai/chat/stream'].post.requestBody.content['application/json'].schema.$ref).toBe('#/components/schemas/ChatRequestDto');
    expect(Object.keys(body.paths['/api/v1/ai/chat/stream'].post.responses['200'].content)).toEqual(['text/event-stream']);
    expect(Object.keys(schemas.RunningStreamResponseDto.properties)).toEqual(['streamId', 'conversationId', 'startedAt', 'resumable']);
    expect(body.paths['/api/v1/ai/streams/{streamId}/stop'].post.security).toEqual([{ bearer: [] }]);
  });

  // The REST part of docs/api.md is rendered from this document; `npm run docs:api`
  // (UPDATE_API_DOCS=1) rewrites it after a route or DTO changed.
  it('docs/api.md lists the routes exactly as the OpenAPI document renders them', async () => {
    const { body } = await t.http.get('/api/docs-json').expect(200);
    const rendered = `\n\n${renderRoutes(body)}\n`;
    const text = readFileSync(API_DOC, 'utf8');
    const start = text.indexOf(ROUTES_START);
    const end = text.indexOf(ROUTES_END);
    if (start < 0 || end < start) throw new Error(`docs/api.md needs the markers ${ROUTES_START} and ${ROUTES_END}, in that order`);
    const between = text.slice(start + ROUTES_START.length, end);
    if (process.env.UPDATE_API_DOCS === '1') {
      if (between !== rendered) writeFileSync(API_DOC, text.slice(0, start + ROUTES_START.length) + rendered + text.slice(end));
      return;
    }
    // On a difference: run `npm run docs:api` and commit docs/api.md.
    expect(between).toBe(rendered);
  });
});
