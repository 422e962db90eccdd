/** Figure colours: a rule keeps its colour from figure to figure, whatever the order or the other rules. */
import assert from 'node:assert/strict';
import { compareFigure, ruleColor, type RuleCurves } from '../../lib/cli/figures';
import { figureSpec } from '../../lib/plot';

const curves = (label: string): RuleCurves => ({ label, curves: [[{ iteration: 0, loss: 0.7, accuracy: 0.5, elapsedMs: 0 }, { iteration: 10, loss: 0.5, accuracy: 0.7, elapsedMs: 1 }]] });

/** series name → colour, from the spec's shared colour scale. */
function colours(labels: string[], anchor = false): Map<string, string> {
  const spec = figureSpec(compareFigure(labels.map(curves), { title: 't', subtitle: [], metric: 'accuracy', band: 'sd', anchor, iterations: 10 })) as {
    hconcat: { layer: { encoding: { color?: { scale: { domain: string[]; range: string[] } } } }[] }[];
  };
  const scale = spec.hconcat[0].layer.find((l) => l.encoding.color)!.encoding.color!.scale;
  return new Map(scale.domain.map((d, i) => [d, scale.range[i]]));
}

describe('compare figure colours', () => {
  it('gives each rule family its own colour, independent of order and of the other rules', () => {
    const a = colours(['bptt', 'modprop (type, μ=0.25)', 'mdgl (type)', 'eprop']);
    const b = colours(['eprop', 'mdgl (type)', 'modprop (cell, μ=0.25)', 'modprop (type, μ=0.25)', 'bptt']);
    for (const label of ['bptt', 'modprop (type, μ=0.25)', 'mdgl (type)', 'eprop']) {
      assert.equal(a.get(label), ruleColor(label), label);
      assert.equal(b.get(label), a.get(label), `${label} keeps its colour`);
    }
    assert.equal(new Set(b.values()).size, b.size, 'all colours distinct');
    assert.notEqual(b.get('modprop (cell, μ=0.25)'), b.get('modprop (type, μ=0.25)'));
  });

  it('two variants of one rule still get distinct colours, and the public runs stay grey', () => {
    const c = colours(['modprop (type, μ=0.25)', 'modprop (type, μ=0.25, online)', 'bptt'], true);
    assert.equal(c.get('modprop (type, μ=0.25)'), ruleColor('modprop'));
    const online = c.get('modprop (type, μ=0.25, online)')!;
    assert.ok(online && ![...c.entries()].some(([k, v]) => k !== 'modprop (type, μ=0.25, online)' && v === online), `online variant colour ${online} is its own`);
    const anchor = [...c.entries()].find(([k]) => k.startsWith('public ModProp runs'));
    assert.equal(anchor?.[1], '#7f7f7f');
  });
});
