// Public surface of the error registry.
export { ERROR_CODES, isErrorCode } from './codes.js';
export type { ErrorCode } from './codes.js';
export { HallmarkError, isHallmarkError } from './hallmark-error.js';
export type { HallmarkErrorOptions } from './hallmark-error.js';
