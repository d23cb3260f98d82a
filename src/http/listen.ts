import type { NestFastifyApplication } from '@nestjs/platform-fastify';

// Every address, IPv6 and IPv4, as a Node server listens by default (Fastify alone would listen on
// localhost only), or every IPv4 address on a host without IPv6.
export async function listenOnEveryAddress(app: NestFastifyApplication, port: number): Promise<void> {
  try {
    await app.listen(port, '::');
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL') throw error;
    await app.listen(port, '0.0.0.0');
  }
}
