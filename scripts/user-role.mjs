// Sets an account's role from the shell, against DATABASE_URL (the default database otherwise):
//   npm run user:role -- <email> admin|user
// The change is written to the admin audit log with "cli" as its author.
import pg from 'pg';

const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/ai_service';
const ROLES = ['user', 'admin'];

function fail(message) {
  console.error(message);
  process.exit(1);
}

const [rawEmail, role, ...rest] = process.argv.slice(2);
if (!rawEmail || !role || rest.length > 0) fail('usage: npm run user:role -- <email> admin|user');
if (!ROLES.includes(role)) fail(`unknown role "${role}": use admin or user`);
const email = rawEmail.trim().toLowerCase();

const client = new pg.Client({ connectionString: process.env.DATABASE_URL || DEFAULT_DATABASE_URL });
try {
  await client.connect();
} catch (error) {
  fail(`cannot reach the database: ${error.message}`);
}
try {
  await client.query('BEGIN');
  const { rows } = await client.query('SELECT "id", "role" FROM "User" WHERE "email" = $1 FOR UPDATE', [email]);
  if (rows.length === 0) {
    await client.query('ROLLBACK');
    fail(`no account with the e-mail ${email}`);
  }
  const [{ id, role: previous }] = rows;
  if (previous === role) {
    await client.query('ROLLBACK');
    console.log(`${email} is already ${role}`);
  } else {
    await client.query('UPDATE "User" SET "role" = $1::"UserRole", "updatedAt" = now() WHERE "id" = $2', [role, id]);
    await client.query(
      `INSERT INTO "AdminAuditLog" ("id", "actorId", "actorEmail", "action", "targetId", "targetEmail", "before", "after")
       VALUES (gen_random_uuid(), NULL, 'cli', 'user.update', $1, $2, $3, $4)`,
      [id, email, JSON.stringify({ role: previous }), JSON.stringify({ role })],
    );
    await client.query('COMMIT');
    console.log(`${email}: ${previous} → ${role}`);
  }
} catch (error) {
  await client.query('ROLLBACK').catch(() => undefined);
  fail(`could not change the role: ${error.message}`);
} finally {
  await client.end();
}
