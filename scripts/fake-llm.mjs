// Run the fake OpenAI-compatible server (test/support/fake-llm.mjs) for offline development:
//   npm run fake-llm                          # http://127.0.0.1:8001/v1
//   FAKE_OPENAI_PORT=9000 npm run fake-openai
// then point the app at it with OPENAI_BASE_URL=<printed URL>. Chat answers echo the last message.
import { startFakeLlm } from '../test/support/fake-llm.mjs';

const port = Number(process.env.FAKE_OPENAI_PORT || 8001);
const fake = await startFakeLlm({ port, host: '127.0.0.1' });
console.log(`fake OpenAI listening on ${fake.baseUrl}`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await fake.close();
  process.exit(0);
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
