import { createApp } from './app.setup';
import { loadEnvOrExit } from './config/load-env';

async function bootstrap(): Promise<void> {
  const env = loadEnvOrExit();
  const app = await createApp(env);
  await app.listen(env.PORT);
}

void bootstrap();
