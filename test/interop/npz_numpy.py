"""Debian's numpy on a network file Node saved (called by npzNumpy.test.ts).

usage: npz_numpy.py <saved.npz> <expected.json> <out.npz> <out-expected.json> <compressed: 0|1>

Checks that numpy.load reads every array (no pickle) with the dtype, shape and values Node wrote to expected.json,
then changes the weights the way a user would (scale Wrec, shift bout, a Fortran-order Win), saves them with
numpy.savez (or savez_compressed) and writes the values it saved, as float32 bit patterns, for Node to compare.
"""
import json
import sys

import numpy as np

saved, expected_path, out, out_expected, compressed = sys.argv[1:6]
expected = json.load(open(expected_path))
f = np.load(saved, allow_pickle=False)
assert sorted(f.files) == sorted(["config", "win", "wrec", "wout", "bout", "types", "type_signs"]), f.files
config = json.loads(str(f["config"]))
for key, want in expected["config"].items():
    assert config[key] == want, (key, config[key], want)

arrays = {}
for name, spec in expected["arrays"].items():
    a = f[name]
    assert a.dtype == np.dtype(spec["dtype"]), (name, a.dtype, spec["dtype"])
    assert a.shape == tuple(spec["shape"]), (name, a.shape, spec["shape"])
    assert a.flags["C_CONTIGUOUS"], name
    want = np.array(spec["values"], dtype=a.dtype).reshape(a.shape)
    assert np.array_equal(a, want), name
    arrays[name] = a

arrays["wrec"] = (arrays["wrec"] * np.float32(0.5)).astype(np.float32)
arrays["bout"] = (arrays["bout"] + np.float32(0.25)).astype(np.float32)
arrays["win"] = np.asfortranarray(arrays["win"] * np.float32(-1.5))
assert not arrays["win"].flags["C_CONTIGUOUS"] or arrays["win"].shape[0] == 1
(np.savez_compressed if compressed == "1" else np.savez)(out, config=f["config"], **arrays)

bits = lambda a: np.ascontiguousarray(a).view(np.uint32).ravel().tolist()
json.dump({name: bits(arrays[name]) for name in ["win", "wrec", "wout", "bout"]} | {"types": arrays["types"].ravel().tolist()},
          open(out_expected, "w"))
print("numpy", np.__version__, "read", saved, "and wrote", out)
