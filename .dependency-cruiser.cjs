// dependency-cruiser configuration: `npm run lint:deps` checks that no two folders of src/ import
// each other, directly or around a longer loop. Spec files and the generated Prisma client are
// left out; type-only imports count (a cycle through `import type` is still a cycle of the design).
//
// The rule below is dependency-cruiser's own folder-level cycle check. It links a folder to the
// exact folder of each file it imports, so a loop that closes through a subfolder (src/a imports
// src/b, src/b imports src/a/sub) escapes it; .dependency-cruiser-reporter.mjs, the reporter used
// by `npm run lint:deps`, adds that check for sibling folders at every depth and lists the imports
// that make up each cycle.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment: 'Folders of src/ must not import each other in a loop: move the shared piece down into a folder both can import, or invert the dependency.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { path: '^src/', circular: true },
    },
  ],
  options: {
    includeOnly: { path: '^src/' },
    exclude: { path: ['^src/generated/', '\\.spec\\.ts$'] },
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
