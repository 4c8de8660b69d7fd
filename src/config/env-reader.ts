// Reading configuration variables: environment first, then `--flag value` of the same name.
import { ConfigError } from './config-error.js';
import { parseDuration } from './duration.js';

/** Raw configuration input: the environment and the command-line flags. */
export interface ConfigSource {
  env: Readonly<Record<string, string | undefined>>;
  /** Flags already parsed, keyed by variable name (`--listen` → `HALLMARK_LISTEN`). */
  flags?: Readonly<Record<string, string | undefined>>;
  /** The cores `auto` means (`os.availableParallelism()` unless given, as tests do). */
  cores?: number;
}

/** Converts a variable name to its flag (`HALLMARK_DATA_DIR` → `data-dir`). */
export function flagNameFor(variable: string): string {
  return variable
    .replace(/^HALLMARK_/, '')
    .toLowerCase()
    .replaceAll('_', '-');
}

/** Typed accessors over a {@link ConfigSource}; every failure names the variable. */
export class EnvReader {
  constructor(private readonly source: ConfigSource) {}

  raw(name: string): string | undefined {
    const value = this.source.flags?.[name] ?? this.source.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optional(name: string): string | undefined {
    return this.raw(name);
  }

  duration(name: string, fallback: string, maxSeconds: number): number {
    const text = this.string(name, fallback);
    const seconds = parseDuration(text);
    if (seconds === undefined) {
      throw new ConfigError(name, `expected a duration such as 30s, 8m, 1h or 30d, got "${text}"`);
    }
    if (seconds > maxSeconds) throw new ConfigError(name, `must be at most ${maxSeconds}s`);
    return seconds;
  }

  integer(name: string, fallback: number, min: number, max: number): number {
    const text = this.raw(name);
    if (text === undefined) return fallback;
    if (!/^[0-9]+$/.test(text)) throw new ConfigError(name, `expected an integer, got "${text}"`);
    const value = Number(text);
    if (value < min || value > max)
      throw new ConfigError(name, `must be between ${min} and ${max}`);
    return value;
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const text = this.string(name, fallback);
    if (!(allowed as readonly string[]).includes(text)) {
      throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${text}"`);
    }
    return text as T;
  }

  /** `host:port` with an IPv4 address or a hostname; port 0 means "any free port". */
  listen(name: string, fallback: string): { host: string; port: number } {
    const text = this.string(name, fallback);
    const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(text);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port > 65535) {
      throw new ConfigError(name, `expected host:port such as 127.0.0.1:8443, got "${text}"`);
    }
    return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
  }
}
