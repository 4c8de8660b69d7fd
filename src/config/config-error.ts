// The configuration error: names the one variable that stopped start-up.
import { HallmarkError } from '../errors/index.js';

/** Raised when a configuration variable is missing, unknown or invalid. */
export class ConfigError extends HallmarkError {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super('ERR_CONFIG_INVALID', { message: `${variable}: ${problem}`, detail: problem });
    this.variable = variable;
  }
}
