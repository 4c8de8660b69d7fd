#!/usr/bin/env node
// Entry point of the `hallmark` CLI. The sources are TypeScript; tsx compiles them on load,
// so `npm start` works on a fresh clone without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
