// Loads a class or function of a compiled build by its exported name, wherever its file sits in
// dist/, so that probes which reach into the service's internals do not depend on the source layout.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

export function distExports(dist) {
  const index = new Map();
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'generated' && entry.name !== 'node_modules') walk(p);
      } else if (entry.name.endsWith('.js')) {
        // tsc's CommonJS output: `exports.Name = Name;`, `exports.Name = Name = __decorate(...)`, `exports.name = () => ...`.
        for (const m of readFileSync(p, 'utf8').matchAll(/^exports\.(\w+) = (?!void 0)/gm)) {
          const files = index.get(m[1]) ?? index.set(m[1], new Set()).get(m[1]);
          files.add(p);
        }
      }
    }
  };
  walk(dist);
  return {
    // Throws when no file or several files export `name`; `hint` (a part of the path) picks one.
    load(name, hint) {
      let files = [...(index.get(name) ?? [])];
      if (hint) files = files.filter((f) => f.includes(hint));
      if (files.length !== 1) throw new Error(`${name}: ${files.length ? `exported by several files of ${dist}: ${files.join(', ')}` : `no file of ${dist} exports it`}`);
      return require(files[0])[name];
    },
  };
}
