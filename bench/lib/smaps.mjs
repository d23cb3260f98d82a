// Resident memory of a process by kind of mapping, from /proc/<pid>/smaps:
// - file-backed: the node binary, shared libraries, other mapped files;
// - malloc main arena: glibc's brk heap ([heap]);
// - malloc thread arenas: glibc's per-thread heaps. Each is a 64 MB (HEAP_MAX_SIZE on 64-bit)
//   reservation aligned on 64 MB: a read-write part that grows as the arena does, and the
//   inaccessible rest right after it. A thread that mallocs gets an arena of its own while there are
//   fewer than 8 × cores (MALLOC_ARENA_MAX caps the count). Freed memory glibc keeps in them still
//   counts in RSS;
// - other anonymous: V8's heap pages, large malloc blocks (mmapped on their own), WebAssembly code
//   and memory, thread stacks.
import { readFileSync } from 'node:fs';

const HEAP_MAX = 64 * 1024 * 1024;

// A thread arena's read-write part: anonymous, on a 64 MB boundary, and with the inaccessible
// mapping that follows it filling its 64 MB exactly (or the whole 64 MB in use).
function isThreadArena(map, next) {
  if (map.name || map.perm !== 'rw-p' || map.start % HEAP_MAX !== 0) return false;
  if (map.size === HEAP_MAX) return true;
  return Boolean(next && !next.name && next.perm === '---p' && next.start === map.start + map.size && map.size + next.size === HEAP_MAX);
}

export function smapsBreakdownMb(pid) {
  const maps = [];
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const map = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (map) {
      const start = Number.parseInt(map[1], 16);
      maps.push({ start, size: Number.parseInt(map[2], 16) - start, perm: map[3], name: map[4].trim(), rss: 0 });
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && maps.length) maps.at(-1).rss = Number(rss[1]);
  }
  const out = { rss: 0, fileBacked: 0, mainArena: 0, threadArenas: 0, otherAnon: 0, arenas: [] };
  maps.forEach((map, i) => {
    out.rss += map.rss;
    if (map.name.startsWith('/')) out.fileBacked += map.rss;
    else if (map.name === '[heap]') out.mainArena += map.rss;
    else if (isThreadArena(map, maps[i + 1])) {
      out.threadArenas += map.rss;
      out.arenas.push(Math.round(map.rss / 102.4) / 10);
    } else out.otherAnon += map.rss;
  });
  for (const key of ['rss', 'fileBacked', 'mainArena', 'threadArenas', 'otherAnon']) out[key] /= 1024;
  return out;
}

export function formatBreakdown(b) {
  const f = (n) => n.toFixed(1);
  return `RSS ${f(b.rss)} MB = file-backed ${f(b.fileBacked)} + malloc main arena ${f(b.mainArena)} + thread arenas ${f(b.threadArenas)} [${b.arenas.join(', ')}] + other anonymous (V8 heap, wasm, stacks) ${f(b.otherAnon)}`;
}
