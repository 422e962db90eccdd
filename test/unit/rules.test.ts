/** The rule registry (lib/rules.ts) and the lists built from it: validation, labels, CLI specs, test coverage. */
import assert from 'node:assert/strict';
import { parseRuleSpec } from '../../lib/cli/common';
import { RULES, RULE_NAMES, TRAINABLE_RULES, NATIVE_RULE_NAMES, onlineForms, takes } from '../../lib/rules';
import { rule, ruleConfigOf, ruleLabel } from '../../lib/validate';
import { NATIVE_RULES } from '../native/common';
import { JOBS } from '../../bench/suites';

describe('the rule registry', () => {
  it('the native parity list covers every native rule, and its online form where it has one', () => {
    for (const name of NATIVE_RULE_NAMES) {
      assert.ok(NATIVE_RULES.some((r) => r.rule === name && !r.online), `${name} offline is in NATIVE_RULES`);
      if (RULES[name].online) assert.ok(NATIVE_RULES.some((r) => r.rule === name && r.online), `${name} online is in NATIVE_RULES`);
    }
    assert.ok(!NATIVE_RULE_NAMES.includes('rtrl'));
  });

  it('the benchmark times every native rule, and its online form where it has one', () => {
    for (const name of NATIVE_RULE_NAMES) {
      assert.ok(JOBS.some((j) => j.rule?.rule === name && !j.rule.online), `${name} offline is a bench job`);
      if (RULES[name].online) assert.ok(JOBS.some((j) => j.rule?.rule === name && j.rule.online), `${name} online is a bench job`);
    }
  });

  it('normalised rules go back to configs that validate to the same rule, for every rule and option', () => {
    for (const name of RULE_NAMES) {
      const config: Record<string, unknown> = { rule: name };
      if (takes(name, 'window')) config.window = 5;
      if (takes(name, 'mu')) config.mu = 0.5;
      if (takes(name, 'feedback')) config.feedback = 'type';
      if (takes(name, 'online')) config.online = true;
      if (takes(name, 'learningSignal')) config.learningSignal = 'symmetric';
      const r = rule(config);
      assert.deepEqual(rule(ruleConfigOf(r)), r, name);
      assert.deepEqual(ruleConfigOf(r), config, name);
      assert.ok(ruleLabel(r).startsWith(name), ruleLabel(r));
    }
  });

  it("rflo defaults to its random feedback and labels say when a rule's signal is not its default", () => {
    assert.equal(rule({ rule: 'rflo' }).learningSignal, 'random');
    assert.equal(rule({ rule: 'eprop' }).learningSignal, 'symmetric');
    assert.equal(ruleLabel(rule({ rule: 'rflo' })), 'rflo');
    assert.equal(ruleLabel(rule({ rule: 'rflo', learningSignal: 'symmetric', online: true })), 'rflo (online, symmetric signal)');
    assert.equal(ruleLabel(rule({ rule: 'eprop', learningSignal: 'random' })), 'eprop (random signal)');
  });

  it('options a rule does not take are rejected with the rules that take them', () => {
    assert.throws(() => rule({ rule: 'rflo', mu: 0.3 }), /^ModpropError: Expected no mu option for rule 'rflo' \(it applies to 'modprop'\) for rule\.mu but received 0\.3$/);
    assert.throws(() => rule({ rule: 'mdgl', online: true }), new RegExp(`Expected no online option for rule 'mdgl' \\(${onlineForms()}\\)`));
    assert.equal(onlineForms(), "online forms exist for 'eprop', 'rflo' and for 'modprop' with type feedback");
  });

  it('the CLI parses every trainable rule with its modifiers', () => {
    assert.ok(!TRAINABLE_RULES.includes('rtrl'));
    assert.deepEqual(parseRuleSpec('rflo:online:symmetric', {}).config, { rule: 'rflo', online: true, learningSignal: 'symmetric' });
    assert.deepEqual(parseRuleSpec('rflo', { mu: 0.5, feedback: 'cell', learningSignal: 'random' }).config, { rule: 'rflo', learningSignal: 'random' });
  });
});
