import { createApp } from './app.setup';
import { exitOnInvalidConfig, loadEnvOrExit } from './config/load-env';
import { handleShutdownSignals } from './lifecycle/graceful-shutdown';

async function bootstrap(): Promise<void> {
  const env = loadEnvOrExit();
  const app = await createApp(env).catch(exitOnInvalidConfig);
  handleShutdownSignals(app, env.SHUTDOWN_GRACE_MS);
  // Every address, IPv6 and IPv4 (Fastify alone would listen on localhost only).
  await app.listen(env.PORT, '::');
}

void bootstrap();
