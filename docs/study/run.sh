#!/usr/bin/env bash
# Regenerates every figure, table and JSON file in docs/study/ (npm run study; ≈ 30 min on 2 cores).
# Each command is also printed in the README's Results section; any of them can be run on its own.
# Extra arguments are appended to every command (e.g. `npm run study -- --jobs 1`).
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

# 1. The ModProp paper's delayed-XOR study, beside the public reference runs, with alignment to bptt along the way.
study --task delayed-xor --rules bptt,modprop,mdgl,eprop --seeds 8 --iterations 1000 \
  --align-every 100 --anchor \
  --plot $out/delayed-xor.svg --table $out/delayed-xor.md --out $out/delayed-xor.json "$@"

# 2. The same with 24 seeds, and ModProp with cell-specific feedback (Wrec itself instead of its type averages).
study --task delayed-xor --rules bptt,modprop,modprop:cell,mdgl,eprop --seeds 24 --iterations 1000 --anchor \
  --plot $out/delayed-xor-24.svg --table $out/delayed-xor-24.md --out $out/delayed-xor-24.json "$@"

# 3. Pattern generation (e-prop style regression, T = 1000): one frozen pattern per seed, batch 1.
study --task pattern-generation --rules bptt,modprop,mdgl,eprop --seeds 8 --iterations 1000 \
  --batch-size 1 --lr 1e-3 --eval-every 50 --align-every 100 \
  --plot $out/pattern-generation.svg --table $out/pattern-generation.md --out $out/pattern-generation.json "$@"

# 4. Row-by-row MNIST (T = 28), τ = 10 steps so that 28 steps are a few time constants; accuracy on the held-out 2000.
study --task seq-mnist --rules bptt,modprop,mdgl,eprop --seeds 8 --iterations 2000 \
  --batch-size 64 --lr 3e-3 --tau 10 --eval-every 100 --align-every 200 \
  --plot $out/seq-mnist.svg --table $out/seq-mnist.md --out $out/seq-mnist.json "$@"

if [ ${#partial[@]} -gt 0 ]; then
  echo "study: some runs failed in: ${partial[*]} (see their tables)" >&2
  exit 1
fi
