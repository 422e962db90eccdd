#!/bin/sh
# Quick iteration without CMake: builds native/tests/core_test with plain g++ and runs it.
#   native/tests/build.sh            build (-O3 -march=native) and run the checks
#   native/tests/build.sh --bench    build and run the benchmark instead
#   CXXFLAGS="-O3" native/tests/build.sh   build without -march=native (the addon's default flags)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-"$here/../../build/core_test"}
mkdir -p "$(dirname "$out")"
g++ -std=c++17 ${CXXFLAGS:--O3 -march=native} -pthread -Wall -Wextra -o "$out" "$here"/*.cc "$here"/../core/*.cc
exec "$out" "$@"
