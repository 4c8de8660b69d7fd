#!/usr/bin/env node
// Development entry of the `hallmark` CLI: tsx compiles the TypeScript sources on load, so
// `npm start` works on a fresh clone without a build step. Always the sources, never dist/
// (which may be stale). The image runs the compiled dist/src/cli/bin.js (`npm run build`).
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/bin.ts');
