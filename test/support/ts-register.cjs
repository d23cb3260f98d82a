// Lets a child process run the TypeScript sources directly (`node -r ./test/support/ts-register.cjs
// src/main.ts`), compiled on the fly by SWC like Jest does, for tests that need a real process
// (signals, exit codes) without a prior `npm run build`.
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};

// The generated Prisma client imports its siblings as `./x.js` (for the compiled output); map them to the `.ts` source.
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  try {
    return resolveFilename.call(this, request, parent, ...rest);
  } catch (error) {
    if (request.startsWith('.') && request.endsWith('.js')) return resolveFilename.call(this, request.slice(0, -3) + '.ts', parent, ...rest);
    throw error;
  }
};
