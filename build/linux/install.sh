#!/bin/sh
# Install MergeDesk for the current user (no root): ~/.local/opt/MergeDesk, a menu entry and
# an icon. `./install.sh --uninstall`, or the installed copy ~/.local/opt/MergeDesk/uninstall.sh,
# removes them again (your data and keychain entries stay).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
data_home="${XDG_DATA_HOME:-$HOME/.local/share}"
target="$HOME/.local/opt/MergeDesk"
desktop_file="$data_home/applications/mergedesk.desktop"
icon_file="$data_home/icons/hicolor/512x512/apps/mergedesk.png"

refresh_menus() {  # best effort: menus also notice the new file by themselves
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database "$data_home/applications" >/dev/null 2>&1 || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$data_home/icons/hicolor" >/dev/null 2>&1 || true
    fi
}

if [ "${1:-}" = "--uninstall" ] || [ "$(basename "$0")" = "uninstall.sh" ]; then
    rm -rf "$target"
    rm -f "$desktop_file" "$icon_file"
    refresh_menus
    echo "MergeDesk removed. Your data in $data_home/MergeDesk and its keychain entries are kept."
    exit 0
fi

# A clean upgrade: the old folder goes first, so no stale file of an older version remains.
rm -rf "$target"
mkdir -p "$(dirname "$target")" "$(dirname "$desktop_file")" "$(dirname "$icon_file")"
cp -a "$here/MergeDesk" "$target"
cp "$here/install.sh" "$target/uninstall.sh"
chmod +x "$target/uninstall.sh"
cp "$here/mergedesk.png" "$icon_file"
sed "s|@EXEC@|\"$target/MergeDesk\"|" "$here/mergedesk.desktop" > "$desktop_file"
chmod 644 "$desktop_file"
refresh_menus
echo "MergeDesk installed in $target and added to your applications menu."
echo "Check it with: $target/mergedesk-cli self-test"
