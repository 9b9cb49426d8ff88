#!/usr/bin/env bash
# Fills the git-ignored .offline/ for a GPU machine without network, and packs it into
# .offline/bundle.tar.xz (at most 60 MiB: what travels to such a machine is capped at 64 MiB):
#   bin/deno        the Deno 2.9.6 binary (from the npm package that `npx deno@2.9.6` runs)
#   deno_dir/       a DENO_DIR holding every npm dependency of the entry points, so nothing is fetched
#   debs/           the Vulkan and EGL loader packages for amd64 (unpacked at run time where missing)
#   data/cifar10/   a copy of the CIFAR-10 test fixture
# Needs the npm registry and Debian's packages; about a minute. scripts/gpu/run.sh runs from the bundle.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
off="$root/.offline"
stage="$off/bundle"
limit_mib=60
rm -rf "$stage" "$off/bundle.tar.xz"
mkdir -p "$stage/bin" "$stage/deno_dir" "$stage/debs" "$stage/data"

echo "bundle: the Deno binary"
cp "$(npx -y deno@2.9.6 eval 'console.log(Deno.execPath())')" "$stage/bin/deno"
"$stage/bin/deno" --version | head -n 1

echo "bundle: npm dependencies of every entry point into deno_dir/"
cd "$root"
mapfile -t entries < <(ls mod.ts src/harness/cli/*.ts src/harness/report/main.ts bench/*.ts tests/*_test.ts
  find scripts -name '*.ts' | sort)
DENO_DIR="$stage/deno_dir" "$stage/bin/deno" cache --quiet "${entries[@]}"

echo "bundle: Vulkan and EGL loader packages (amd64)"
lists=$(mktemp -d)
apt_opts=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
mkdir -p "$lists/partial"
apt-get "${apt_opts[@]}" update -qq
(cd "$stage/debs" &&
  apt-get "${apt_opts[@]}" download -qq libvulkan1 libegl1 libglvnd0 libgl1 libglx0 libgles2 libopengl0)
rm -rf "$lists"
ls "$stage/debs"

echo "bundle: the CIFAR-10 fixture"
cp -r tests/fixtures/cifar10 "$stage/data/"

echo "bundle: packing (xz)"
tar -C "$off" -I "xz -T0" -cf "$off/bundle.tar.xz" bundle
bytes=$(stat -c %s "$off/bundle.tar.xz")
echo "bundle: $off/bundle.tar.xz, $((bytes / 1048576)) MiB (unpacked: $(du -sm "$stage" | cut -f1) MiB)"
if [ "$bytes" -gt $((limit_mib * 1048576)) ]; then
  echo "bundle: over $limit_mib MiB" >&2
  exit 1
fi
