// The sign-in check of the second factor, under the module name src/interactions/routes.ts imports.
// transitional: src/interactions still calls this; removed once its routes take the service
export type { SecondFactorCheck, SecondFactorOutcome } from './second-factors.ts';
