#!/usr/bin/env bash
# Fetches the Material UI tarballs used by the corpus tests and the
# walk-through, unless they are already present, and checks their SHA-256
# digests. The corpus lives in $FERRY_CORPUS, else ../shared/corpus beside
# the repository. Fetching needs npm and access to the npm registry.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${FERRY_CORPUS:-$repo/../shared/corpus}"

# file name, npm package spec, SHA-256 of the tarball
tarballs=(
  "mui-material-9.5.0.tgz @mui/material@9.5.0 0b222105eac08eebc55fe9d071c07766df1db7027ab5ae21e6f3c3ec7dfff032"
  "mui-material-9.6.0.tgz @mui/material@9.6.0 6cd6aaf5349d807060f156b58627126ea25240584a7a5f9990e62e84a3f23510"
  "mui-icons-material-9.6.0.tgz @mui/icons-material@9.6.0 6b6f51de6e0fd489e05d0eb88c0eefc6ad9c7a5136a7bb817f75d7620af156fe"
)

mkdir -p "$corpus"
for entry in "${tarballs[@]}"; do
  read -r file spec digest <<<"$entry"
  if [[ ! -f "$corpus/$file" ]]; then
    echo "fetching $spec into $corpus"
    download="$(mktemp -d)"
    (cd "$download" && npm pack --silent "$spec" >/dev/null)
    mv "$download/$file" "$corpus/$file"
    rm -rf "$download"
  fi
  echo "$digest  $corpus/$file" | sha256sum --check --quiet -
done
echo "corpus ready in $corpus"
