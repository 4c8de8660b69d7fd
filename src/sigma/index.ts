// Public surface of the Sigma evaluator behind `hallmark audit hunt`.
export { Hunt } from './sigma-hunt.js';
export { parseSigmaFile, SigmaRuleError } from './sigma-rule.js';
export type { EventCount, HuntPlan, SigmaRule } from './sigma-rule.js';
export type { Placeholders } from './sigma-detection.js';
