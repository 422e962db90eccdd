#!/usr/bin/env bash
# Regenerates every figure, table and JSON file in docs/study/ (npm run study; ≈ 1 h on 2 idle cores, 1.5 h beside other work).
# Each command is also printed in the README's Results section; any of them can be run on its own.
# Extra arguments are appended to every compare command (e.g. `npm run study -- --jobs 1`).
# A command whose runs partly failed (e.g. an unstable ModProp filter, reported in its table) exits 1; the study goes
# on and this script exits 1 at the end. Any other failure stops it.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=docs/study
partial=()
study() {
  npx modprop compare "$@"
  local code=$?
  if [ $code -eq 1 ]; then partial+=("$2"); elif [ $code -ne 0 ]; then exit $code; fi
}
report() {
  npx modprop report "$@" > /dev/null || exit $?
}

# 1. The paper's delayed-XOR runs as its public code computed them (preset liu2022: cell feedback, their init), beside
#    the paper's proposed rule (modprop:type), bptt, mdgl and eprop, and beside the public runs themselves.
#    Its table and figures come from report: medians, IQRs and Holm-adjusted tests, every run (-runs.svg), IQR bands (.svg).
study --task delayed-xor --preset liu2022 --rules bptt,modprop,modprop:type,mdgl,eprop --seeds 20 --iterations 1000 --anchor \
  --out $out/liu2022.json "$@"
report $out/liu2022.json --anchor --table $out/liu2022-stats.md --plot $out/liu2022-runs.svg \
  --bands $out/liu2022.svg --title "Delayed XOR, liu2022 preset: every rule, 20 seeds"
report $out/liu2022.json --specs modprop --seed-table modprop --by 400 --table $out/liu2022-seeds.md

# 2. Does type feedback close the gap with more cell types? E and I each split into k random equal subtypes (C = 2k).
study --task delayed-xor --preset liu2022 --rules modprop:type --subtypes 2 --seeds 16 --iterations 1000 \
  --plot $out/subtypes-4.svg --table $out/subtypes-4.md --out $out/subtypes-4.json "$@"
study --task delayed-xor --preset liu2022 --rules modprop:type --subtypes 4 --seeds 16 --iterations 1000 \
  --plot $out/subtypes-8.svg --table $out/subtypes-8.md --out $out/subtypes-8.json "$@"
study --task delayed-xor --preset liu2022 --rules modprop:type --subtypes 8 --seeds 16 --iterations 1000 \
  --plot $out/subtypes-16.svg --table $out/subtypes-16.md --out $out/subtypes-16.json "$@"
report $out/liu2022.json $out/subtypes-4.json $out/subtypes-8.json $out/subtypes-16.json --specs modprop,modprop:type,eprop \
  --table $out/subtypes-stats.md --plot $out/subtypes-runs.svg

# 3. The same rules under SPEC §1's initialisation (init balanced, the library default), 24 seeds.
study --task delayed-xor --rules bptt,modprop,modprop:cell,mdgl,eprop --seeds 24 --iterations 1000 --anchor \
  --plot $out/delayed-xor-24.svg --table $out/delayed-xor-24.md --out $out/delayed-xor-24.json "$@"
report $out/delayed-xor-24.json --anchor --table $out/delayed-xor-24-stats.md --plot $out/delayed-xor-24-runs.svg

# 4. Pattern generation (e-prop style regression, T = 1000): one frozen pattern per seed, batch 1.
study --task pattern-generation --rules bptt,modprop,mdgl,eprop --seeds 8 --iterations 1000 \
  --batch-size 1 --lr 1e-3 --eval-every 50 --align-every 100 \
  --plot $out/pattern-generation.svg --table $out/pattern-generation.md --out $out/pattern-generation.json "$@"
report $out/pattern-generation.json --plot $out/pattern-generation-runs.svg

# 5. Row-by-row MNIST (T = 28), τ = 10 steps so that 28 steps are a few time constants; accuracy on the held-out 2000.
study --task seq-mnist --rules bptt,modprop,mdgl,eprop --seeds 8 --iterations 2000 \
  --batch-size 64 --lr 3e-3 --tau 10 --eval-every 100 --align-every 200 \
  --plot $out/seq-mnist.svg --table $out/seq-mnist.md --out $out/seq-mnist.json "$@"
report $out/seq-mnist.json --plot $out/seq-mnist-runs.svg

if [ ${#partial[@]} -gt 0 ]; then
  echo "study: some runs failed in: ${partial[*]} (see their tables)" >&2
  exit 1
fi
