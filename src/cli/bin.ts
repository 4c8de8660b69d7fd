// The `hallmark` process entry: runs the CLI on the process's arguments and streams. Compiled to
// dist/src/cli/bin.js, it is what the image runs; bin/hallmark.js loads it through tsx instead.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
