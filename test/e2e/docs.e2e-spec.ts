import { startTestApp, TestApp } from '../support/test-app';

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
      '/api/v1/ai/chat',
      '/api/v1/ai/conversations',
      '/api/v1/ai/conversations/{id}',
      '/api/v1/ai/embeddings',
      '/api/v1/ai/jobs/completion',
      '/api/v1/ai/jobs/embeddings',
      '/api/v1/ai/jobs/{jobId}',
      '/api/v1/ai/usage',
      '/api/v1/auth/login',
      '/api/v1/auth/me',
      '/api/v1/auth/refresh',
      '/api/v1/auth/register',
      '/api/v1/health',
    ]);
    const schemas = body.components.schemas;
    expect(Object.keys(schemas.ChatRequestDto.properties).sort()).toEqual(['conversationId', 'maxTokens', 'message', 'model', 'temperature']);
    expect(schemas.ChatRequestDto.required).toEqual(['message']);
    expect(schemas.ChatRequestDto.properties.conversationId).toMatchObject({ type: 'string', format: 'uuid', nullable: true });
    expect(Object.keys(schemas.ChatResponseDto.properties).sort()).toEqual(['content', 'conversationId', 'createdAt', 'messageId', 'model', 'tokens']);
    expect(Object.keys(schemas.RegisterDto.properties).sort()).toEqual(['email', 'name', 'password']);
    expect(Object.keys(schemas.UsageResponseDto.properties).sort()).toEqual(['conversationsCount', 'lastUsed', 'messagesCount', 'totalTokens']);
    expect(body.paths['/api/v1/ai/chat'].post.security).toEqual([{ bearer: [] }]);
    expect(body.paths['/api/v1/ai/chat'].post.responses['201'].content['application/json'].schema.$ref).toBe('#/components/schemas/ChatResponseDto');
  });
});
