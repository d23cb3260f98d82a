// dependency-cruiser reporter plugin (`depcruise src -T plugin:<absolute path of this file>`).
//
// Reports folder-level import cycles: for each folder of src/ (src itself included), its child
// folders are compared as units (each stands for every file below it), and a child that imports
// another which imports it back, directly or around a longer loop, is a cycle. Each cycle is
// printed with the file imports that make it up. dependency-cruiser's own `scope: "folder"` rule
// compares a folder only with the exact folder of each file it imports and so misses a loop that
// closes through a subfolder; its violations are printed too when this check finds nothing, and any
// other rule's violations always are. Exit code: the number of errors (0 when clean).

const SRC = 'src';

const parentOf = (path) => path.slice(0, path.lastIndexOf('/'));

// The child of `dir` that `file` lies in, or undefined for a file directly in `dir` or elsewhere.
function childOf(dir, file) {
  if (!file.startsWith(`${dir}/`)) return undefined;
  const rest = file.slice(dir.length + 1);
  const slash = rest.indexOf('/');
  return slash < 0 ? undefined : `${dir}/${rest.slice(0, slash)}`;
}

// Strongly connected components of a graph given as Map<node, Map<node, imports>> (Tarjan).
function components(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const result = [];
  let next = 0;
  const visit = (node) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node)?.keys() ?? []) {
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node), low.get(target)));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node), index.get(target)));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component = [];
      let member;
      do {
        member = stack.pop();
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      result.push(component);
    }
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return result;
}

// Shortest path from `from` to `to` inside `members` (breadth first), as a list of nodes.
function shortestPath(graph, members, from, to) {
  const previous = new Map([[from, undefined]]);
  const queue = [from];
  while (queue.length > 0) {
    const node = queue.shift();
    if (node === to) break;
    for (const target of [...(graph.get(node)?.keys() ?? [])].sort()) {
      if (members.has(target) && !previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  const path = [];
  for (let node = to; node !== undefined; node = previous.get(node)) path.unshift(node);
  return path;
}

// The groups of sibling folders that import each other in a loop (strongly connected components),
// each with one shortest cycle through every import edge of the group and the file imports of each
// edge: every edge worth cutting is shown once.
export function folderCycles(modules) {
  const files = modules.filter((m) => m.source.startsWith(`${SRC}/`) && !m.coreModule && !m.couldNotResolve);
  const folders = new Set([SRC]);
  for (const { source } of files) for (let dir = parentOf(source); dir.startsWith(SRC); dir = parentOf(dir)) folders.add(dir);

  const groups = [];
  for (const dir of [...folders].sort()) {
    const graph = new Map();
    for (const { source, dependencies } of files) {
      const from = childOf(dir, source);
      if (!from) continue;
      for (const { resolved } of dependencies) {
        const to = childOf(dir, resolved);
        if (!to || to === from) continue;
        if (!graph.has(from)) graph.set(from, new Map());
        const edges = graph.get(from);
        if (!edges.has(to)) edges.set(to, []);
        edges.get(to).push(`${source} → ${resolved}`);
      }
    }
    for (const component of components(graph)) {
      if (component.length < 2) continue;
      const members = new Set(component);
      const cycles = new Map();
      const edges = [];
      for (const from of [...component].sort()) {
        for (const to of [...graph.get(from).keys()].sort()) {
          if (!members.has(to)) continue;
          edges.push({ from, to, imports: graph.get(from).get(to) });
          const loop = [from, ...shortestPath(graph, members, to, from)];
          loop.pop();
          const start = loop.indexOf([...loop].sort()[0]);
          const canonical = [...loop.slice(start), ...loop.slice(0, start), loop[start]];
          cycles.set(canonical.join(' → '), canonical);
        }
      }
      const byLength = [...cycles.values()].sort((a, b) => a.length - b.length || a.join(' ').localeCompare(b.join(' ')));
      groups.push({ folders: [...component].sort(), cycles: byLength.map((cycle) => cycle.join(' → ')), edges });
    }
  }
  return groups;
}

function describeViolation(violation) {
  const path = violation.cycle ? [violation.from, ...violation.cycle.map((step) => step.name ?? step)] : [violation.from, violation.to];
  return `${violation.rule.severity} ${violation.rule.name}: ${path.join(' → ')}`;
}

export default function report(result) {
  const groups = folderCycles(result.modules ?? []);
  const lines = [];
  let errors = 0;

  for (const { folders, cycles, edges } of groups) {
    errors += 1;
    lines.push(`error no-folder-cycles: ${folders.join(', ')} import each other (each folder stands for everything below it)`);
    lines.push('  cycles:');
    for (const cycle of cycles) lines.push(`    ${cycle}`);
    lines.push('  imports that make them (cut one edge of each cycle):');
    for (const { from, to, imports } of edges) {
      lines.push(`    ${from} → ${to}`);
      for (const line of imports) lines.push(`      ${line}`);
    }
    lines.push('');
  }

  // dependency-cruiser's own violations: its folder-cycle rule only as a fallback (the check above
  // covers every cycle it finds), each cycle once rather than once per folder on it.
  const printed = new Set();
  for (const violation of result.summary?.violations ?? []) {
    if (violation.rule.severity === 'ignore') continue;
    if (violation.rule.name === 'no-folder-cycles' && groups.length > 0) continue;
    const key = violation.cycle
      ? `${violation.rule.name} ${violation.cycle
          .map((step) => step.name ?? step)
          .sort()
          .join(' ')}`
      : describeViolation(violation);
    if (printed.has(key)) continue;
    printed.add(key);
    if (violation.rule.severity === 'error') errors += 1;
    lines.push(describeViolation(violation));
  }

  const cruised = `${result.summary?.totalCruised ?? 0} modules, ${result.summary?.totalDependenciesCruised ?? 0} dependencies cruised`;
  lines.push(errors > 0 ? `✖ ${errors} dependency error(s). ${cruised}.` : `✔ no folder-level import cycles, no dependency violations (${cruised}).`);
  return { output: `${lines.join('\n')}\n`, exitCode: errors };
}
