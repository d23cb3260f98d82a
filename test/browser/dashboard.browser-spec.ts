import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { FakeLlm, startFakeLlm } from '../support/fake-llm.mjs';
import { registerUser, TestUser, uniqueEmail } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ROOT = join(__dirname, '..', '..');

// The dashboard in a real browser (Debian's Chromium driven by playwright-core) against the real
// service: the page as `npm run build` makes it, served by the app itself.
describe('GET /dashboard in a browser', () => {
  let fake: FakeLlm;
  let t: TestApp;
  let context: BrowserContext;
  let profile: string;
  let user: TestUser;
  const adminEmail = uniqueEmail('root');
  const password = 'correct horse battery';
  const pageErrors: string[] = [];

  beforeAll(async () => {
    // Said first and plainly: playwright-core's own launch error does not say what to install.
    if (!existsSync(CHROMIUM)) throw new Error(`The browser tests need Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'web/vite.config.mjs'], { cwd: ROOT, stdio: 'pipe' });
    fake = await startFakeLlm();
    t = await startTestApp({ OPENAI_BASE_URL: fake.baseUrl, ADMIN_EMAILS: adminEmail });
    await t.http.post('/api/v1/auth/register').send({ email: adminEmail, password }).expect(201);
    user = await registerUser(t, 'viewer');
    fake.enqueue(
      // Far more than any other test's user today (the database is shared), so it heads the top users.
      { usage: { prompt_tokens: 400_000, completion_tokens: 100_000, total_tokens: 500_000 } },
      { usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 } },
    );
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'one' }).expect(201);
    await t.http.post('/api/v1/ai/chat').set(user.auth).send({ message: 'two', model: 'gpt-4o-mini' }).expect(201);
    profile = mkdtempSync(join(tmpdir(), 'dashboard-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);
  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await t?.close();
    await fake?.close();
  });

  async function openPage(width = 1280): Promise<Page> {
    const page = await context.newPage();
    await page.setViewportSize({ width, height: 800 });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 401/.test(message.text())) pageErrors.push(message.text());
    });
    const response = await page.goto(`${t.url}/dashboard`);
    // The page itself at /dashboard (no redirect), under helmet's CSP that allows only its own files.
    expect(response?.status()).toBe(200);
    expect(response?.request().redirectedFrom()).toBeNull();
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    return page;
  }

  // With the keyboard only, through the labelled fields.
  async function signIn(page: Page, email: string, secret = email === adminEmail ? password : user.password): Promise<void> {
    await page.getByLabel('E-mail', { exact: true }).fill('');
    await page.getByLabel('E-mail', { exact: true }).focus();
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    await page.keyboard.type(secret);
    await page.keyboard.press('Enter');
  }

  it('signs a user in and draws their usage per day by model with the right totals, at phone width', async () => {
    const page = await openPage(375);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await signIn(page, user.email);
    await page.locator('#total-tokens', { hasText: '500,010' }).waitFor();
    expect(await page.locator('#total-requests').textContent()).toBe('2');
    expect(await page.locator('#budget-left').textContent()).toBe('499,990');
    expect(await page.locator('#budget-used').textContent()).toBe('500,010 of 1,000,000');
    // gpt-4: 400,000 × $30 + 100,000 × $60 per million; gpt-4o-mini: 5 × $0.15 + 5 × $0.60 per million.
    expect(await page.locator('#total-cost').textContent()).toBe(`$${((400_000 * 30 + 100_000 * 60 + 5 * 0.15 + 5 * 0.6) / 1e6).toFixed(4)}`);
    const canvas = page.locator('#daily-chart');
    expect(await canvas.getAttribute('data-models')).toBe('gpt-4,gpt-4o-mini');
    // The chart really drew bars: the canvas has painted pixels.
    // (Strings: the test's TypeScript has no DOM types; the code runs in the page.)
    const painted = await page.evaluate<number>(`(() => {
      const canvas = document.getElementById('daily-chart');
      const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let count = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) count++;
      return count;
    })()`);
    expect(painted).toBeGreaterThan(100);
    await page.getByText('Usage by day and model (table)').click();
    const rows = await page.locator('#daily-table tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toContain('gpt-4');
    expect(rows[0]).toContain('500,000');
    expect(await page.locator('#admin').isHidden()).toBe(true);
    // Nothing wider than a phone's screen.
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    await page.close();
  });

  it('an admin sees every user and disables one; that user’s open session is refused at once', async () => {
    const viewer = await openPage();
    await signIn(viewer, user.email);
    await viewer.locator('#total-tokens', { hasText: '500,010' }).waitFor();

    const admin = await openPage();
    await signIn(admin, adminEmail);
    await admin.getByRole('heading', { name: 'All users' }).waitFor();
    await admin.locator('#top-users li', { hasText: user.email }).waitFor();
    expect(await admin.locator('#top-users li').first().textContent()).toContain(`${user.email}: 500,010 tokens`);
    // The accounts table, searched by keyboard for the viewer.
    await admin.getByLabel('Search e-mail or name').fill(user.email);
    await admin.keyboard.press('Enter');
    await admin.locator('#users-page', { hasText: '(1 account)' }).waitFor();
    const row = admin.locator(`tr[data-user-id="${user.id}"]`);
    expect(await row.locator('td').nth(2).textContent()).toBe('500,010');

    await admin.getByRole('button', { name: `Disable ${user.email}` }).click();
    await admin.locator('#notice', { hasText: `${user.email} disabled` }).waitFor();
    await admin.getByRole('button', { name: `Enable ${user.email}` }).waitFor();

    // The viewer's socket is closed by the service; the page finds its session refused and signs out.
    await viewer.locator('#notice', { hasText: 'Your session has ended (Account disabled)' }).waitFor({ timeout: 5_000 });
    expect(await viewer.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    expect(await viewer.locator('#usage').isHidden()).toBe(true);
    await signIn(viewer, user.email);
    await viewer.locator('#sign-in-error', { hasText: 'Account disabled' }).waitFor();
    expect((await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).disabled).toBe(true);

    // The admin sets a limit from the same table.
    const limit = admin.getByLabel(`Token limit of ${user.email}`, { exact: true });
    await limit.fill('5000');
    await admin.getByRole('button', { name: `Save the token limit of ${user.email}` }).click();
    await admin.locator('#notice', { hasText: `Token limit of ${user.email} set to 5,000` }).waitFor();
    expect((await t.prisma.user.findUniqueOrThrow({ where: { id: user.id } })).tokenLimit).toBe(5000);
    expect(pageErrors).toEqual([]);
  });
});
