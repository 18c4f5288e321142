#!/usr/bin/env bash
# Builds ferry and walks through a workspace on Material UI: snap 9.5.0,
# unpack 9.6.0 over it, see what changed, snap again, tag, read the log and
# check out the old version. Pass a directory to keep the workspace there;
# by default it goes to a temporary directory that is removed at the end.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${FERRY_CORPUS:-$repo/../shared/corpus}"
bash "$repo/scripts/fetch-corpus.sh"

cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p ferry-cli
export PATH="$repo/target/release:$PATH"

if [[ $# -ge 1 ]]; then
  workspace="$1"
  mkdir -p "$workspace"
else
  workspace="$(mktemp -d)"
  trap 'rm -rf "$workspace"' EXIT
fi
cd "$workspace"
export FERRY_AUTHOR="${FERRY_AUTHOR:-Walkthrough <walkthrough@example.com>}"

# Prints a command line, then runs it.
step() { printf '\n$ %s\n' "$1"; eval "$1"; }

tar xzf "$corpus/mui-material-9.5.0.tgz"
step 'ferry init --scope mui'
step 'ferry add package/[A-Z]*/ | tail -n 1'
step 'time ferry snap -m "Material UI 9.5.0" | tail -n 1'
step 'ferry tag Button 9.5.0'

step 'rm -rf package && tar xzf "$corpus/mui-material-9.6.0.tgz"'
step 'ferry status | tail -n 1'
step 'time ferry snap -m "Material UI 9.6.0" | tail -n 1'
step 'ferry tag Button 9.6.0'
step 'ferry log Button'
step 'ferry checkout Button@9.5.0'
step 'ferry status --all | grep -A1 "^mui/Button "'
