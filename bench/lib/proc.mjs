// Process figures from /proc: CPU time (utime + stime) and resident memory.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  /* keep 100 */
}

// CPU time the process has used so far, in ms (kernel resolution: 1000 / CLK_TCK ms).
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 is state; utime and stime are fields 14 and 15 of the full line.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
}

// { user, system } CPU time in ms.
export function cpuSplitMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(fields[11]) * 1000) / clockTicks, system: (Number(fields[12]) * 1000) / clockTicks };
}

function statusKb(pid, key) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
  return m ? Number(m[1]) : NaN;
}

export const rssMb = (pid) => statusKb(pid, 'VmRSS') / 1024;
export const peakRssMb = (pid) => statusKb(pid, 'VmHWM') / 1024;

// Resets VmHWM to the current RSS (Linux >= 4.0, needs permission on the process: we own it).
export function resetPeakRss(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

// Samples VmRSS every `everyMs` as a fallback/peak cross-check when clear_refs is not allowed.
export function startRssSampler(pid, everyMs = 50) {
  let peak = 0;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssMb(pid));
    } catch {
      /* process gone */
    }
  }, everyMs);
  return { stop: () => (clearInterval(timer), peak) };
}

export function cpuInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  const cores = (cpuinfo.match(/^processor\s*:/gm) ?? []).length;
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  return { model, cores, memGb: Math.round((memKb / 1024 / 1024) * 10) / 10 };
}

export function loadAvg() {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

// Other heavy processes on the machine right now (a test run, a build), for the report's caveat.
export function otherLoadSnapshot() {
  const seen = new Set();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (/jest|tsc |nest build/.test(cmd) && !cmd.includes('bench/')) seen.add(cmd.includes('jest') ? 'jest (a test run)' : cmd.trim().slice(0, 40));
    } catch {
      /* gone */
    }
  }
  return [...seen];
}
