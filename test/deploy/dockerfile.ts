// deploy/Dockerfile read as data, stage by stage: for its test, and for the sidecar bench, which
// starts the sidecar the way the image's ENTRYPOINT and ENV do.
import { readRepoFile } from './deploy-files.js';

/** One instruction, continuation lines joined. */
export interface Instruction {
  /** Upper case: `FROM`, `RUN`, `COPY`, ... */
  readonly op: string;
  readonly args: string;
}

/** A build stage: its `FROM` and the instructions after it. */
export interface Stage {
  readonly from: string;
  /** The `AS` name, when there is one. */
  readonly name: string | undefined;
  readonly steps: readonly Instruction[];
}

/** Instructions of a Dockerfile, continuation lines joined and comments dropped. */
export function instructionsOf(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op, ...rest] = line.split(/\s+/);
      return { op: (op as string).toUpperCase(), args: rest.join(' ') };
    });
}

/** The stages of a Dockerfile, in order; the last one is the image. */
export function stagesOf(text: string): Stage[] {
  const stages: { from: string; name: string | undefined; steps: Instruction[] }[] = [];
  for (const instruction of instructionsOf(text)) {
    if (instruction.op === 'FROM') {
      const [from, as, name] = instruction.args.split(/\s+/);
      stages.push({
        from: from as string,
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        steps: [],
      });
    } else {
      stages.at(-1)?.steps.push(instruction);
    }
  }
  return stages;
}

/** deploy/Dockerfile's stages. */
export function dockerfileStages(): Stage[] {
  return stagesOf(readRepoFile('deploy/Dockerfile'));
}

/** The arguments of every `op` instruction of a stage. */
export function argsOf(stage: Stage, op: string): string[] {
  return stage.steps.filter((step) => step.op === op).map((step) => step.args);
}

/** A stage's last ENTRYPOINT, in exec (JSON array) form; throws for the shell form. */
export function entrypointOf(stage: Stage): string[] {
  const entrypoint = argsOf(stage, 'ENTRYPOINT').at(-1);
  if (entrypoint === undefined) throw new Error('no ENTRYPOINT');
  const parsed = JSON.parse(entrypoint) as unknown;
  if (!Array.isArray(parsed) || !parsed.every((arg) => typeof arg === 'string')) {
    throw new Error(`ENTRYPOINT is not in exec form: ${entrypoint}`);
  }
  return parsed as string[];
}

/** The variables a stage's `ENV KEY=value ...` instructions set (unquoted values only). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const args of argsOf(stage, 'ENV')) {
    for (const pair of args.split(/\s+/)) {
      const at = pair.indexOf('=');
      if (at <= 0) throw new Error(`ENV ${args}: only KEY=value pairs are read`);
      env[pair.slice(0, at)] = pair.slice(at + 1);
    }
  }
  return env;
}

/** A stage's last WORKDIR. */
export function workdirOf(stage: Stage): string | undefined {
  return argsOf(stage, 'WORKDIR').at(-1);
}
