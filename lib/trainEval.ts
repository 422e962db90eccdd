/**
 * The forward passes of train()'s evaluations. With an engine that can write into given outputs (the native one),
 * the v, z and y arrays (B·T·N floats each: 28 MB at paper size) are allocated once per run and reused, instead of
 * being allocated and garbage-collected at every evaluation (measured: ≈ 50 ms of GC pauses on the JS thread per
 * evaluation), and where the engine can compute the readout alone (the native one: Engine.forwardOutputsAsync) only y
 * is written at all, so the pass stores no B·T·N arrays. The finiteness check runs as for `Network.forwardAsync` (off
 * the JS thread where the addon allows), on what the pass returns.
 * Batches come validated by train; the parameters are train's own (finite after every step).
 */
import { engineFor } from './backend';
import { engineForNeuron } from './neurons/engine';
import type { Network } from './network';
import { checkedForwardAsync, checkedOutputsAsync } from './resultChecks';
import type { Batch, ForwardResult } from './types';
import type { NormalizedRule } from './validate';

export function evaluationForward(net: Network, rule: NormalizedRule, backend: 'native' | 'reference' | undefined, threads: number | undefined): (batch: Batch) => Promise<Float32Array> {
  // A spiking network evaluates on the engine its gradients run on (lib/neurons/engine.ts).
  const engine = engineForNeuron(engineFor, backend, net.config, [rule]);
  const outputs = new Map<number, ForwardResult>(); // by B·T: the evaluation batch and the held-out set
  const readouts = new Map<number, Float32Array>();
  return async (batch) => {
    if (engine.forwardOutputsAsync) {
      const size = batch.batchSize * batch.steps * net.nOut;
      let y = readouts.get(size);
      if (!y) readouts.set(size, (y = new Float32Array(size)));
      const into = y;
      return checkedOutputsAsync(() => engine.forwardOutputsAsync!(net, batch, into, threads), batch, net.config);
    }
    if (!engine.forwardAsyncInto) return (await net.forwardAsync(batch, { backend: engine.name, threads })).y;
    const size = batch.batchSize * batch.steps;
    let out = outputs.get(size);
    if (!out) {
      out = { v: new Float32Array(size * net.nRec), z: new Float32Array(size * net.nRec), y: new Float32Array(size * net.nOut) };
      outputs.set(size, out);
    }
    const into = out;
    return (await checkedForwardAsync(() => engine.forwardAsyncInto!(net, batch, into, threads), batch, net.config)).y;
  };
}
