# Replaces pyinstaller-hooks-contrib's hook for phonenumbers, which collects every submodule.
# MergeDesk only parses and formats numbers, so the geocoder, carrier and time-zone tables
# (~20 MB of modules, also listed in installer.spec's excludes) are left out. The region
# metadata under phonenumbers.data is imported by name at run time, so it stays a hidden import.
from PyInstaller.utils.hooks import collect_submodules

UNUSED = ("geocoder", "geodata", "carrier", "carrierdata", "timezone", "tzdata")


def _used(name: str) -> bool:
    parts = name.split(".")
    return len(parts) < 2 or parts[1] not in UNUSED


hiddenimports = collect_submodules("phonenumbers", filter=_used)
