import { createApp } from './app.setup';
import { exitOnInvalidConfig, loadEnvOrExit } from './config/load-env';
import { listenOnEveryAddress } from './http/listen';
import { handleShutdownSignals } from './lifecycle/graceful-shutdown';

async function bootstrap(): Promise<void> {
  const env = loadEnvOrExit();
  const app = await createApp(env).catch(exitOnInvalidConfig);
  handleShutdownSignals(app, env.SHUTDOWN_GRACE_MS);
  await listenOnEveryAddress(app, env.PORT);
}

void bootstrap();
