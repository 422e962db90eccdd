/**
 * The native engine: the C++ kernels of native/core behind the `Engine` interface. Available only when the addon
 * loads, its contract matches lib/contract.ts, and it provides the kernels.
 */
import { loadAddon } from '../native/addon';
import type { Engine } from './engine';

export interface NativeCandidate {
  engine?: Engine;
  /** Why the native engine is not available. */
  reason?: string;
  /** What the addon reports about itself, when it loaded. */
  info?: Record<string, unknown>;
}

export function loadNativeEngine(): NativeCandidate {
  const loaded = loadAddon();
  if ('error' in loaded) return { reason: loaded.error };
  const info = loaded.addon.info() as unknown as Record<string, unknown>;
  if (typeof (loaded.addon as { gradients?: unknown }).gradients !== 'function') {
    return { reason: `the native addon (${loaded.path}) loaded but provides no kernels`, info };
  }
  return { reason: 'native kernels are not wired to the engine interface yet', info };
}
