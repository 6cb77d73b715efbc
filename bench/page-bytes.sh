#!/usr/bin/env bash
# Bytes a phone downloads (issue 17): builds the demo (site.toml and
# examples/demo/) with the release binary in a temp folder, then prints the
# gzipped bytes of
#   - a player's page view: the player's index.html.gz and the .gz of every
#     CSS/JS asset that page references (photos and avatars apart: they are
#     images, sized apart);
#   - the roster: index.html.gz and its assets;
# and a verdict against the target "under 10 KB (10,240 bytes) for a
# player's page view". A benchmark, not a test: it reports, never fails on
# a missed target.
#
#   bench/page-bytes.sh             # the demo's first player (p001)
#   bench/page-bytes.sh p042        # another player's slug
#
# nginx serves the .gz twin as it is (gzip_static), so its size is what
# goes over the wire, headers apart.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SLUG=${1:-p001}
TARGET=10240

echo "page-bytes: cargo build --release" >&2
(cd "$ROOT" && cargo build --release --quiet)
GEN="${CARGO_TARGET_DIR:-$ROOT/target}/release/gen"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sheetgen-page-bytes.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/examples"
cp "$ROOT/site.toml" "$WORK/"
cp -r "$ROOT/examples/demo" "$WORK/examples/"
cp -r "$ROOT/site-templates" "$WORK/"
(cd "$WORK" && "$GEN" --config site.toml build >"$WORK/build.log" 2>&1) || {
    echo "page-bytes: gen build failed:" >&2
    cat "$WORK/build.log" >&2
    exit 1
}
OUT="$WORK/public"

# size FILE: bytes of FILE
size() {
    stat -c %s "$1"
}

# assets PAGE: the /assets/… URLs (CSS, JS; not photos) an HTML page references
assets() {
    sed 's/&#x2f;/\//g' "$1" |
        grep -oE '(href|src)="/assets/[^"]+"' |
        sed -E 's/^(href|src)="//; s/"$//' |
        grep -v '^/assets/photos/' |
        sort -u || true
}

# view NAME HTML: one line per file of the view (its .gz bytes), then the total
view() {
    local name=$1 html=$2 total=0 gz bytes url
    gz="$html.gz"
    if [[ ! -f $gz ]]; then
        echo "page-bytes: $gz missing" >&2
        exit 1
    fi
    bytes=$(size "$gz")
    total=$((total + bytes))
    printf '  %-44s %7d\n' "${html#"$OUT"/}.gz" "$bytes"
    while read -r url; do
        [[ -n $url ]] || continue
        local file="$OUT$url"
        if [[ -f "$file.gz" ]]; then
            bytes=$(size "$file.gz")
            printf '  %-44s %7d\n' "${url#/}.gz" "$bytes"
        else
            bytes=$(size "$file")
            printf '  %-44s %7d (not compressed)\n' "${url#/}" "$bytes"
        fi
        total=$((total + bytes))
    done < <(assets "$html")
    printf '  %-44s %7d bytes\n' "= $name" "$total"
    echo "$total" >"$WORK/$name.total"
}

player_html="$OUT/p/$SLUG/index.html"
if [[ ! -f $player_html ]]; then
    echo "page-bytes: no page for player $SLUG (see $OUT/p/)" >&2
    exit 2
fi

echo "player's page view (/p/$SLUG/), gzipped:"
view player "$player_html"
echo "roster (/), gzipped:"
view roster "$OUT/index.html"

player_total=$(cat "$WORK/player.total")
if ((player_total < TARGET)); then
    verdict="met"
else
    verdict="MISSED"
fi
echo
echo "target: a player's page view under $TARGET bytes (10 KB) gzipped: $verdict ($player_total bytes)"
