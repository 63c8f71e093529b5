#!/usr/bin/env bash
# Build MergeDesk for macOS: MergeDesk.app (PyInstaller), signed with the hardened runtime and
# notarised when the credentials are set, smoke-tested, and packed into a .dmg.
#
#   build/macos/build.sh [OUT_DIR]      (default: $MERGEDESK_BUILD_DIR or /tmp/mergedesk-build)
#
# Needs: macOS 12+ with Xcode command line tools (codesign, xcrun notarytool, stapler, hdiutil)
# and uv. Build on the oldest macOS you support, with a Python that is universal2 or matches the
# target CPU (an arm64 build runs on Apple silicon only).
#
# Environment (all optional; without them the app and .dmg are built unsigned):
#   MACOS_SIGNING_IDENTITY  "Developer ID Application: <Name> (<TEAMID>)", in the login keychain
#   APPLE_ID                Apple ID e-mail of the developer account      } notarisation, only
#   APPLE_TEAM_ID           10-character team id                          } with a signing
#   APPLE_APP_PASSWORD      app-specific password of that Apple ID        } identity too
#
# Results:  OUT_DIR/dist/MergeDesk.app   OUT_DIR/MergeDesk-<version>-macos-<arch>.dmg
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-${MERGEDESK_BUILD_DIR:-/tmp/mergedesk-build}}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$root"
export UV_PYTHON_DOWNLOADS="${UV_PYTHON_DOWNLOADS:-never}"

version="$(uv run python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
arch="$(uname -m)"
app="$out/dist/MergeDesk.app"
dmg="$out/MergeDesk-$version-macos-$arch.dmg"
entitlements="$root/build/macos/entitlements.plist"
identity="${MACOS_SIGNING_IDENTITY:-}"
notarise=""
if [ -n "$identity" ] && [ -n "${APPLE_ID:-}" ] && [ -n "${APPLE_TEAM_ID:-}" ] \
    && [ -n "${APPLE_APP_PASSWORD:-}" ]; then
    notarise=yes
fi

echo "== PyInstaller: MergeDesk $version ($arch) into $out/dist"
uv sync --frozen
rm -rf "$app" "$out/dist/MergeDesk"
uv run pyinstaller --noconfirm --workpath "$out/work" --distpath "$out/dist" installer.spec

sign() {  # sign one path with the hardened runtime and a secure timestamp
    codesign --force --timestamp --options runtime --sign "$identity" "$@"
}

if [ -n "$identity" ]; then
    echo "== codesign with \"$identity\" (hardened runtime)"
    # Inside out: every Mach-O file, then the .framework bundles (deepest first), then the two
    # executables with the entitlements, then the app itself. No --deep: it would sign the
    # executables without their entitlements.
    while IFS= read -r -d '' file; do
        if file -b "$file" | grep -q "Mach-O"; then sign "$file"; fi
    done < <(find "$app/Contents/Frameworks" "$app/Contents/Resources" -type f -print0)
    while IFS= read -r framework; do
        sign "$framework"
    done < <(find "$app/Contents" -type d -name "*.framework" | awk '{ print length, $0 }' \
        | sort -rn | cut -d" " -f2-)
    sign --entitlements "$entitlements" "$app/Contents/MacOS/mergedesk-cli"
    sign --entitlements "$entitlements" "$app/Contents/MacOS/MergeDesk"
    sign --entitlements "$entitlements" "$app"
    codesign --verify --deep --strict --verbose=2 "$app"
else
    echo "!! MACOS_SIGNING_IDENTITY not set: the app stays ad-hoc signed (Gatekeeper will block"
    echo "!! it on other Macs unless the user right-clicks > Open)."
fi

echo "== smoke test of the built app (self-test x3 + demo)"
uv run python build/smoke_test.py "$app" --runs 3 --demo

notarise_file() {  # submit a file to Apple's notary service, wait, print the log on failure
    local file="$1" result id
    result="$(xcrun notarytool submit "$file" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
        --password "$APPLE_APP_PASSWORD" --wait --output-format plist)"
    id="$(/usr/libexec/PlistBuddy -c "Print :id" /dev/stdin <<<"$result")"
    if [ "$(/usr/libexec/PlistBuddy -c "Print :status" /dev/stdin <<<"$result")" != "Accepted" ]; then
        xcrun notarytool log "$id" --apple-id "$APPLE_ID" --team-id "$APPLE_TEAM_ID" \
            --password "$APPLE_APP_PASSWORD" || true
        echo "notarisation of $file failed (submission $id)" >&2
        return 1
    fi
    echo "notarised: $file (submission $id)"
}

if [ -n "$notarise" ]; then
    echo "== notarise the app, staple the ticket to it"
    zip="$out/MergeDesk-$version-notarise.zip"
    ditto -c -k --keepParent "$app" "$zip"
    notarise_file "$zip"
    rm -f "$zip"
    xcrun stapler staple "$app"
elif [ -n "$identity" ]; then
    echo "!! APPLE_ID / APPLE_TEAM_ID / APPLE_APP_PASSWORD not set: signed but NOT notarised."
fi

echo "== disk image $dmg"
staging="$out/dmg"
rm -rf "$staging" "$dmg"
mkdir -p "$staging"
ditto "$app" "$staging/MergeDesk.app"
ln -s /Applications "$staging/Applications"
hdiutil create -volname "MergeDesk $version" -srcfolder "$staging" -ov -format UDZO "$dmg"
rm -rf "$staging"
if [ -n "$identity" ]; then
    codesign --force --timestamp --sign "$identity" "$dmg"
fi
if [ -n "$notarise" ]; then
    notarise_file "$dmg"
    xcrun stapler staple "$dmg"
    spctl --assess --type open --context context:primary-signature --verbose "$dmg"
    spctl --assess --type execute --verbose "$app"
fi

echo "app: $app ($(du -sh "$app" | cut -f1))"
echo "dmg: $dmg ($(du -sh "$dmg" | cut -f1))${identity:+, signed}${notarise:+, notarised}"
