#!/usr/bin/env bash
# buf breaking on proto/ against the last release tag (v*), or else against main.
#
#   scripts/buf_breaking.sh              # from anywhere inside the checkout
#   BUF=/path/to/buf scripts/buf_breaking.sh
#
# Exit 0 when nothing breaks or there is nothing to compare with (it says why), non-zero
# when buf finds a breaking change (buf prints file:line:column and the rule).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
buf="${BUF:-$root/node_modules/.bin/buf}"

skip() {
  echo "buf breaking: skipped: $1"
  exit 0
}

git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout, so there is no history to compare proto/ with"
[ -x "$buf" ] || command -v "$buf" >/dev/null 2>&1 || {
  echo "buf breaking: $buf not found; run 'npm install' (or set BUF=/path/to/buf)" >&2
  exit 2
}

against_ref=""
tag="$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true)"
if [ -n "$tag" ]; then
  against_ref="$tag"
  what="the last release tag $tag"
else
  for candidate in main origin/main; do
    if git rev-parse --verify --quiet "$candidate^{commit}" >/dev/null; then
      against_ref="$candidate"
      break
    fi
  done
  [ -n "$against_ref" ] || skip "no release tag (v*) and no main branch to compare with"
  if [ "$(git rev-parse HEAD)" = "$(git rev-parse "$against_ref^{commit}")" ] \
    && git diff --quiet HEAD -- proto; then
    skip "no release tag and HEAD is $against_ref itself: the change is already main, so there is nothing older to compare with"
  fi
  what="$against_ref"
fi

git cat-file -e "$against_ref:proto" 2>/dev/null || skip "$what has no proto/ directory yet"

echo "buf breaking: checking proto/ against $what"
exec "$buf" breaking proto --against ".git#ref=$against_ref,subdir=proto"
