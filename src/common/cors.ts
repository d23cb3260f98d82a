// CORS_ORIGIN may list several origins, comma-separated.
export const corsOrigins = (value: string): string[] =>
  value
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
