// Run the fake LLM upstream (test/support/fake-llm.mjs) for offline development:
//   npm run fake-llm                          # port 8001
//   FAKE_LLM_PORT=9000 npm run fake-llm
// It serves the OpenAI, Anthropic and Gemini APIs on that port and prints the base URL of each;
// point the app at the OpenAI one with OPENAI_BASE_URL=<printed URL>. Answers echo the last message.
import { startFakeLlm } from '../test/support/fake-llm.mjs';

const port = Number(process.env.FAKE_LLM_PORT || 8001);
const fake = await startFakeLlm({ port, host: '127.0.0.1' });
console.log(`fake LLM listening on port ${fake.port}`);
console.log(`  OpenAI     ${fake.baseUrl}  (OPENAI_BASE_URL, the openai SDK's baseURL)`);
console.log(`  Anthropic  ${fake.anthropicBaseUrl}  (the @anthropic-ai/sdk baseURL)`);
console.log(`  Gemini     ${fake.geminiBaseUrl}  (@google/genai httpOptions.baseUrl)`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await fake.close();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
