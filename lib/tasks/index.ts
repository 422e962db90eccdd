export { delayedXor, type DelayedXorOptions } from './delayedXor';
export type { Task } from './task';
