import { Injectable } from '@nestjs/common';
import { createSecretKey, KeyObject } from 'node:crypto';
import { ConfigService } from '@nestjs/config';
import { adminEmailsOf, Env, runsApiRole } from './env.schema';

// Typed access to the validated configuration; the only way the rest of the code reads it.
@Injectable()
export class AppConfigService {
  constructor(private readonly config: ConfigService<Env, true>) {}

  get<K extends keyof Env>(key: K): Env[K] {
    return this.config.get(key, { infer: true });
  }

  // The HS256 secret as a KeyObject: given a string, jsonwebtoken first tries (and fails) to parse
  // it as a public key on every verify, which costs an exception per request.
  get jwtKey(): KeyObject {
    this.cachedJwtKey ??= createSecretKey(Buffer.from(this.get('JWT_SECRET')));
    return this.cachedJwtKey;
  }

  private cachedJwtKey?: KeyObject;

  get isProduction(): boolean {
    return this.get('NODE_ENV') === 'production';
  }

  get isAiConfigured(): boolean {
    return Boolean(this.get('OPENAI_API_KEY') || this.get('OPENAI_BASE_URL'));
  }

  isAdminEmail(email: string): boolean {
    this.cachedAdminEmails ??= new Set(adminEmailsOf(this.get('ADMIN_EMAILS')));
    return this.cachedAdminEmails.has(email.toLowerCase());
  }

  private cachedAdminEmails?: Set<string>;

  get runsApi(): boolean {
    return runsApiRole(this.get('PROCESS_ROLE'));
  }
}
