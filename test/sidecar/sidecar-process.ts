// Runs `hallmark sidecar` in its own process for the signal test. Imports only the command
// (not the whole CLI), so the child starts quickly.
import { sidecarCommand } from '../../src/cli/sidecar-command.js';

process.exitCode = await sidecarCommand.run(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  env: process.env,
  stdin: process.stdin,
});
