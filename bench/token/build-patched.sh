#!/bin/sh
# Builds a patched copy of Gatehouse for a same-run comparison, without touching src/:
#   bench/token/build-patched.sh NAME PATCH…   → bench/token/.patched/NAME/dist
# then: node bench/token/run.mjs --alt NAME=bench/token/.patched/NAME/dist
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
name=$1; shift
out="$here/.patched/$name"
rm -rf "$out"
mkdir -p "$out"
cp -R "$root/src" "$root/tsconfig.json" "$root/package.json" "$out/"
ln -s "$root/node_modules" "$out/node_modules"
for p in "$@"; do
  abs="$(cd "$(dirname "$p")" && pwd)/$(basename "$p")"
  (cd "$out" && patch -s -p1 < "$abs")
done
(cd "$out" && "$root/node_modules/.bin/tsc" -p tsconfig.json)
echo "$out/dist"
