import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from 'chart.js';
import { io, type Socket } from 'socket.io-client';
import { ApiError, call, loadSession, saveSession, SessionEnded, signIn } from './api';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

interface Me {
  id: string;
  email: string;
  role: 'user' | 'admin';
  totalTokensUsed: number;
  tokenLimit: number;
}
interface Usage {
  totalCostUsd: number;
}
interface Sums {
  requests: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  costUsd: number | null;
}
interface DayRow extends Sums {
  date: string;
  model: string;
}
interface Daily {
  from: string;
  to: string;
  days: DayRow[];
}
interface AdminUser {
  id: string;
  email: string;
  name: string | null;
  role: string;
  disabled: boolean;
  tokenLimit: number;
  totalTokensUsed: number;
  totalCostUsd: number;
}
interface Page<T> {
  data: T[];
  meta: { page: number; totalPages: number; total: number };
}
interface Overview {
  totals: Sums;
  groups: (Sums & { userId?: string; email?: string })[];
}

const COLORS = ['#2457c5', '#e07b00', '#1b9e77', '#d62728', '#7b4fc9', '#8c564b', '#e377c2', '#555555'];
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const numbers = new Intl.NumberFormat('en-US');
const usd = (value: number | null) => (value === null ? 'n/a' : `$${value.toFixed(4)}`);
const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let chart: Chart | null = null;
let socket: Socket | null = null;
let me: Me | null = null;
let usersPage = 1;

function notice(text: string): void {
  $('notice').textContent = text;
}

function show(signedIn: boolean): void {
  $('sign-in').hidden = signedIn;
  $('usage').hidden = !signedIn;
  $('who').hidden = !signedIn;
  $('admin').hidden = !signedIn || me?.role !== 'admin';
}

// Every failure of a signed-in call ends here: a refused session signs out with its reason.
function fail(error: unknown): void {
  if (error instanceof SessionEnded) return endSession(`Your session has ended (${error.message}). Sign in again.`);
  notice(error instanceof Error ? error.message : 'Something went wrong');
}

function endSession(message: string): void {
  saveSession(null);
  socket?.close();
  socket = null;
  me = null;
  chart?.destroy();
  chart = null;
  show(false);
  notice(message);
  $<HTMLInputElement>('email').focus();
}

// The live socket of the session: the service closes it the moment the account is disabled, so
// the page learns at once rather than at its next request.
function connectSocket(token: string): void {
  socket?.close();
  socket = io('/ai', { auth: { token }, transports: ['websocket'], reconnection: false });
  socket.on('disconnect', (reason) => {
    if (reason === 'io server disconnect') void refreshAll().catch(fail);
  });
}

function dayLabels(from: string, to: string): string[] {
  const labels: string[] = [];
  for (let ms = Date.parse(`${from}T00:00:00Z`); ms <= Date.parse(`${to}T00:00:00Z`); ms += DAY_MS) labels.push(isoDay(ms));
  return labels;
}

function renderDaily(daily: Daily): void {
  const labels = dayLabels(daily.from, daily.to);
  const models = [...new Set(daily.days.map((row) => row.model))].sort();
  const datasets = models.map((model, i) => {
    const byDay = new Map(daily.days.filter((row) => row.model === model).map((row) => [row.date, row.totalTokens]));
    return { label: model, data: labels.map((day) => byDay.get(day) ?? 0), backgroundColor: COLORS[i % COLORS.length] };
  });
  const canvas = $<HTMLCanvasElement>('daily-chart');
  chart?.destroy();
  chart = new Chart(canvas, {
    type: 'bar',
    data: { labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: 'tokens' } } },
      plugins: { legend: { position: 'bottom' } },
    },
  });
  const sum = (pick: (row: DayRow) => number) => daily.days.reduce((total, row) => total + pick(row), 0);
  const priced = daily.days.filter((row) => row.costUsd !== null);
  $('total-tokens').textContent = numbers.format(sum((row) => row.totalTokens));
  $('total-requests').textContent = numbers.format(sum((row) => row.requests));
  $('total-cost').textContent = usd(priced.length ? priced.reduce((total, row) => total + (row.costUsd ?? 0), 0) : null);
  canvas.setAttribute('aria-label', `Tokens per day from ${daily.from} to ${daily.to}, stacked by model: ${models.join(', ') || 'no usage'}`);
  canvas.dataset.models = models.join(',');
  const body = $('daily-table').querySelector('tbody') as HTMLTableSectionElement;
  body.replaceChildren(...daily.days.map((row) => tableRow([row.date, row.model, numbers.format(row.requests), numbers.format(row.totalTokens), usd(row.costUsd)])));
}

function tableRow(cells: (string | Node)[]): HTMLTableRowElement {
  const tr = document.createElement('tr');
  for (const cell of cells) {
    const td = document.createElement('td');
    td.append(cell);
    tr.append(td);
  }
  return tr;
}

function range(): { from: string; to: string } {
  return { from: $<HTMLInputElement>('from').value, to: $<HTMLInputElement>('to').value };
}

async function refreshAll(): Promise<void> {
  me = await call<Me>('/auth/me');
  const { from, to } = range();
  const query = new URLSearchParams({ from, to }).toString();
  const [daily, usage] = await Promise.all([call<Daily>(`/ai/usage/daily?${query}`), call<Usage>('/ai/usage')]);
  $('who-email').textContent = me.email;
  $('who-role').textContent = me.role;
  $('budget-used').textContent = `${numbers.format(me.totalTokensUsed)} of ${numbers.format(me.tokenLimit)}`;
  $('budget-left').textContent = numbers.format(Math.max(me.tokenLimit - me.totalTokensUsed, 0));
  $('lifetime-cost').textContent = usd(usage.totalCostUsd);
  show(true);
  renderDaily(daily);
  if (me.role === 'admin') await refreshAdmin(query);
}

async function refreshAdmin(query: string): Promise<void> {
  const q = $<HTMLInputElement>('user-q').value.trim();
  const usersQuery = new URLSearchParams({ page: String(usersPage), limit: '20', ...(q ? { q } : {}) }).toString();
  const [overview, users] = await Promise.all([call<Overview>(`/admin/usage?${query}&groupBy=user&limit=10`), call<Page<AdminUser>>(`/admin/users?${usersQuery}`)]);
  $('all-tokens').textContent = numbers.format(overview.totals.totalTokens);
  $('all-cost').textContent = usd(overview.totals.costUsd);
  $('top-users').replaceChildren(
    ...overview.groups.map((group) => {
      const li = document.createElement('li');
      li.textContent = `${group.email}: ${numbers.format(group.totalTokens)} tokens, ${usd(group.costUsd)}`;
      return li;
    }),
  );
  const body = $('users-table').querySelector('tbody') as HTMLTableSectionElement;
  body.replaceChildren(...users.data.map(userRow));
  $('users-page').textContent = `Page ${users.meta.page} of ${Math.max(users.meta.totalPages, 1)} (${users.meta.total} account${users.meta.total === 1 ? '' : 's'})`;
  $<HTMLButtonElement>('users-prev').disabled = users.meta.page <= 1;
  $<HTMLButtonElement>('users-next').disabled = users.meta.page >= users.meta.totalPages;
}

// One account: its limit in a labelled field with a Save button, and a Disable/Enable button.
function userRow(user: AdminUser): HTMLTableRowElement {
  const limitForm = document.createElement('form');
  limitForm.className = 'range';
  const input = document.createElement('input');
  input.type = 'number';
  input.min = '0';
  input.step = '1';
  input.value = String(user.tokenLimit);
  input.id = `limit-${user.id}`;
  input.setAttribute('aria-label', `Token limit of ${user.email}`);
  const save = document.createElement('button');
  save.type = 'submit';
  save.textContent = 'Save';
  save.setAttribute('aria-label', `Save the token limit of ${user.email}`);
  limitForm.append(input, save);
  limitForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void changeUser(user, { tokenLimit: Number(input.value) }, `Token limit of ${user.email} set to ${numbers.format(Number(input.value))}`);
  });
  const toggle = document.createElement('button');
  toggle.type = 'button';
  toggle.textContent = user.disabled ? 'Enable' : 'Disable';
  toggle.setAttribute('aria-label', `${user.disabled ? 'Enable' : 'Disable'} ${user.email}`);
  toggle.disabled = user.id === me?.id;
  toggle.addEventListener('click', () => void changeUser(user, { disabled: !user.disabled }, `${user.email} ${user.disabled ? 'enabled' : 'disabled'}`));
  const status = document.createElement('span');
  status.textContent = user.disabled ? 'disabled ' : 'active ';
  const statusCell = document.createElement('span');
  statusCell.append(status, toggle);
  const row = tableRow([user.email, user.role, numbers.format(user.totalTokensUsed), usd(user.totalCostUsd), limitForm, statusCell]);
  row.dataset.userId = user.id;
  return row;
}

async function changeUser(user: AdminUser, changes: Partial<Pick<AdminUser, 'tokenLimit' | 'disabled'>>, done: string): Promise<void> {
  try {
    await call(`/admin/users/${user.id}`, { method: 'PATCH', body: JSON.stringify(changes) });
    notice(done);
    await refreshAll();
  } catch (error) {
    fail(error);
  }
}

function setDefaultRange(): void {
  const today = Date.now();
  $<HTMLInputElement>('to').value = isoDay(today);
  $<HTMLInputElement>('from').value = isoDay(today - 29 * DAY_MS);
}

async function start(): Promise<void> {
  const session = loadSession();
  if (!session) return show(false);
  await refreshAll();
  connectSocket(loadSession()?.accessToken ?? session.accessToken);
}

$('sign-in-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const email = $<HTMLInputElement>('email').value.trim();
  const password = $<HTMLInputElement>('password').value;
  $('sign-in-error').textContent = '';
  signIn(email, password)
    .then(() => {
      $<HTMLInputElement>('password').value = '';
      notice('');
      return start();
    })
    .catch((error: unknown) => {
      $('sign-in-error').textContent = error instanceof ApiError ? error.message : 'Could not sign in';
    });
});

$('range-form').addEventListener('submit', (event) => {
  event.preventDefault();
  refreshAll().catch(fail);
});

$('user-search').addEventListener('submit', (event) => {
  event.preventDefault();
  usersPage = 1;
  refreshAll().catch(fail);
});

$('users-prev').addEventListener('click', () => {
  usersPage = Math.max(usersPage - 1, 1);
  refreshAll().catch(fail);
});

$('users-next').addEventListener('click', () => {
  usersPage += 1;
  refreshAll().catch(fail);
});

$('sign-out').addEventListener('click', () => endSession('Signed out.'));

setDefaultRange();
start().catch(fail);
