#!/usr/bin/env bash
# Build MergeDesk for Linux: the PyInstaller one-folder bundle and a tarball holding it, a
# .desktop file, the icon, install.sh and INSTALL.txt.
#
#   build/linux/build.sh [OUT_DIR]       (default: $MERGEDESK_BUILD_DIR or /tmp/mergedesk-build)
#
# Results:  OUT_DIR/dist/MergeDesk/                       the bundle (MergeDesk, mergedesk-cli)
#           OUT_DIR/MergeDesk-<version>-linux-<arch>.tar.gz
# PyInstaller's work and dist folders are kept out of build/ (which holds these scripts).
# Build on the oldest distribution you support: the bundle needs its glibc or newer.
# No AppImage: appimagetool is neither a Debian nor a PyPI package (the PyPI wrappers download
# it and its runtime from GitHub at build time), so it cannot be installed reproducibly here.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-${MERGEDESK_BUILD_DIR:-/tmp/mergedesk-build}}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$root"

version="$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')"
arch="$(uname -m)"
name="MergeDesk-$version-linux-$arch"

echo "== PyInstaller: MergeDesk $version ($arch) into $out/dist"
rm -rf "$out/dist/MergeDesk" "$out/stage"
uv run pyinstaller --noconfirm --log-level "${PYI_LOG_LEVEL:-WARN}" \
    --workpath "$out/work" --distpath "$out/dist" installer.spec

echo "== tarball $name.tar.gz"
stage="$out/stage/$name"
mkdir -p "$stage"
cp -a "$out/dist/MergeDesk" "$stage/MergeDesk"
cp resources/icons/mergedesk.png "$stage/mergedesk.png"
cp build/linux/mergedesk.desktop "$stage/mergedesk.desktop"
cp build/linux/install.sh "$stage/install.sh"
sed -e "s|@VERSION@|$version|" -e "s|@ARCH@|$arch|" build/linux/INSTALL.txt > "$stage/INSTALL.txt"
chmod +x "$stage/install.sh" "$stage/MergeDesk/MergeDesk" "$stage/MergeDesk/mergedesk-cli"
tar -C "$out/stage" -czf "$out/$name.tar.gz" "$name"
rm -rf "$out/stage"

echo "bundle:  $out/dist/MergeDesk ($(du -sh "$out/dist/MergeDesk" | cut -f1))"
echo "tarball: $out/$name.tar.gz ($(du -sh "$out/$name.tar.gz" | cut -f1))"
