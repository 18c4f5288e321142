#!/usr/bin/env bash
# Builds ferry, starts `ferry serve` on a free loopback port with a
# temporary data directory, and walks through two workspaces on Material
# UI. The first snaps, tags and exports 9.5.0, and the second imports it
# and must hold byte-identical files. Then the first exports the 9.6.0
# update and the second imports it again. The server is stopped by its
# process id at the end. Pass a directory to keep the workspaces and the server data
# there; by default everything goes to a temporary directory that is
# removed at the end.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${FERRY_CORPUS:-$repo/../shared/corpus}"
bash "$repo/scripts/fetch-corpus.sh"

cargo build --release --quiet --manifest-path "$repo/Cargo.toml" -p ferry-cli
export PATH="$repo/target/release:$PATH"

if [[ $# -ge 1 ]]; then
  base="$(mkdir -p "$1" && cd "$1" && pwd)"
  keep=1
else
  base="$(mktemp -d)"
  keep=0
fi
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [[ "$keep" == 0 ]]; then
    rm -rf "$base"
  fi
}
trap cleanup EXIT
export FERRY_AUTHOR="${FERRY_AUTHOR:-Walkthrough <walkthrough@example.com>}"

# Prints a command line, then runs it.
step() { printf '\n$ %s\n' "$1"; eval "$1"; }

# Starts the server in the background and waits for the line that names
# its address.
ferry serve --data "$base/server-data" --listen 127.0.0.1:0 \
  >"$base/serve.out" 2>"$base/serve.log" &
server_pid=$!
for _ in $(seq 50); do
  grep -q '^listening on ' "$base/serve.out" 2>/dev/null && break
  sleep 0.1
done
url="$(sed -n 's/^listening on //p' "$base/serve.out")"
if [[ -z "$url" ]]; then
  echo "ferry serve did not start; its log:" >&2
  cat "$base/serve.log" >&2
  exit 1
fi
printf '\nferry serve runs as process %s on %s\n' "$server_pid" "$url"

mkdir -p "$base/first" "$base/second"
cd "$base/first"
tar xzf "$corpus/mui-material-9.5.0.tgz"
step 'ferry init --scope mui'
step 'ferry add package/[A-Z]*/ | tail -n 1'
step 'time ferry snap -m "Material UI 9.5.0" | tail -n 1'
step 'ferry tag Button 9.5.0'
step "ferry remote add origin $url"
step 'ferry scope create mui'
step 'time ferry export | sed -n 1p'
step 'ferry status | grep -c "up to date with origin"'

# Component names, such as Button, resolve in the default scope mui.
mapfile -t names < <(cd package && ls -d [A-Z]*/ | tr -d /)
cd "$base/second"
step 'ferry init --scope mui'
step "ferry remote add origin $url"
step 'time ferry import "${names[@]}" | tail -n 1'
for name in "${names[@]}"; do
  diff -r "$base/first/package/$name" "$name"
done
printf '\nAll %s components in the second workspace match 9.5.0 byte for byte\n' \
  "${#names[@]}"

cd "$base/first"
step 'rm -rf package && tar xzf "$corpus/mui-material-9.6.0.tgz"'
step 'ferry status | tail -n 1'
step 'time ferry snap -m "Material UI 9.6.0" | tail -n 1'
step 'ferry tag Button 9.6.0'
step 'ferry export | sed -n 1p'

cd "$base/second"
step 'ferry import "${names[@]}" | grep -c "^Checked out"'
for name in "${names[@]}"; do
  diff -r "$base/first/package/$name" "$name"
done
printf '\nAll %s components in the second workspace match 9.6.0 byte for byte\n' \
  "${#names[@]}"
step 'ferry log Button | sed -n 1,3p'
step 'ferry status | grep -c "up to date with origin"'

kill "$server_pid"
wait "$server_pid" || true
server_pid=""
printf '\nStopped ferry serve\n'
