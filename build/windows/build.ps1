<#
.SYNOPSIS
  Build the MergeDesk Windows installer: PyInstaller bundle -> (signing) -> smoke test -> Inno Setup.

.DESCRIPTION
  Needs, on a Windows 10/11 x64 build machine: uv (https://docs.astral.sh/uv/), Python 3.11+,
  Inno Setup 6.3+ (ISCC.exe on PATH or in its default folder) and, to sign, signtool.exe from the
  Windows SDK. Run from any folder:

      powershell -ExecutionPolicy Bypass -File build\windows\build.ps1 [-OutDir C:\mergedesk-build]

  Signing happens only when both environment variables are set (unsigned builds still work):
      WINDOWS_CERT_PFX       path to the code-signing certificate (.pfx), or its base64 text
      WINDOWS_CERT_PASSWORD  the .pfx password
      WINDOWS_TIMESTAMP_URL  optional RFC 3161 timestamp server (default: DigiCert's)

  Results in OutDir: dist\MergeDesk\ (the bundle) and MergeDesk-<version>-windows-x64-setup.exe.
  PyInstaller's work and dist folders are kept out of build\ (which holds these scripts).
#>
[CmdletBinding()]
param(
    [string]$OutDir = (Join-Path $env:TEMP "mergedesk-build"),
    [switch]$SkipSmokeTest
)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

function Invoke-Checked([string]$What, [scriptblock]$Command) {
    Write-Host "== $What"
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)" }
}

function Find-Tool([string]$Name, [string[]]$Candidates) {
    $onPath = Get-Command $Name -ErrorAction SilentlyContinue
    if ($onPath) { return $onPath.Source }
    foreach ($pattern in $Candidates) {
        $found = Get-ChildItem -Path $pattern -ErrorAction SilentlyContinue |
            Sort-Object FullName -Descending | Select-Object -First 1
        if ($found) { return $found.FullName }
    }
    return $null
}

$Root = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
New-Item -ItemType Directory -Force -Path $OutDir | Out-Null
$OutDir = (Resolve-Path $OutDir).Path
$Dist = Join-Path $OutDir "dist"
$Work = Join-Path $OutDir "work"
$Bundle = Join-Path $Dist "MergeDesk"
$Sign = [bool]($env:WINDOWS_CERT_PFX -and $env:WINDOWS_CERT_PASSWORD)
$TempPfx = $null
$SignTool = $null
Push-Location $Root
try {
    $env:UV_PYTHON_DOWNLOADS = if ($env:UV_PYTHON_DOWNLOADS) { $env:UV_PYTHON_DOWNLOADS } else { "never" }
    $Version = & uv run python -c "import tomllib; print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])"
    if ($LASTEXITCODE -ne 0 -or -not $Version) { throw "could not read the version from pyproject.toml" }
    $Version = "$Version".Trim()
    Write-Host "MergeDesk $Version -> $OutDir"

    Invoke-Checked "locked environment" { uv sync --frozen }
    if (Test-Path $Bundle) { Remove-Item -Recurse -Force $Bundle }
    Invoke-Checked "PyInstaller (installer.spec)" {
        uv run pyinstaller --noconfirm --workpath $Work --distpath $Dist installer.spec
    }

    # --- signing (only with both secrets) ---------------------------------------------------
    $IsccArgs = @("/DAppVersion=$Version", "/DDistDir=$Bundle", "/DOutputDir=$OutDir")
    if ($Sign) {
        $SignTool = Find-Tool "signtool.exe" @(
            "${env:ProgramFiles(x86)}\Windows Kits\10\bin\*\x64\signtool.exe",
            "${env:ProgramFiles}\Windows Kits\10\bin\*\x64\signtool.exe"
        )
        if (-not $SignTool) { throw "signtool.exe not found: install the Windows SDK (Signing Tools)" }
        $Pfx = $env:WINDOWS_CERT_PFX
        $PfxIsFile = $false
        try { $PfxIsFile = Test-Path -LiteralPath $Pfx -PathType Leaf } catch { $PfxIsFile = $false }
        if (-not $PfxIsFile) {
            # A CI secret usually holds the .pfx as base64 text.
            $TempPfx = Join-Path $OutDir "signing-cert.pfx"
            [IO.File]::WriteAllBytes($TempPfx, [Convert]::FromBase64String($Pfx))
            $Pfx = $TempPfx
        }
        $Timestamp = if ($env:WINDOWS_TIMESTAMP_URL) { $env:WINDOWS_TIMESTAMP_URL } else { "http://timestamp.digicert.com" }
        $SignArgs = @("sign", "/f", $Pfx, "/p", $env:WINDOWS_CERT_PASSWORD, "/fd", "SHA256",
                      "/tr", $Timestamp, "/td", "SHA256", "/d", "MergeDesk")
        foreach ($exe in @("MergeDesk.exe", "mergedesk-cli.exe")) {
            $target = Join-Path $Bundle $exe
            Invoke-Checked "sign $exe" { & $SignTool @SignArgs $target }
            Invoke-Checked "verify $exe" { & $SignTool verify /pa $target }
        }
        # Inno Setup signs the setup .exe and its uninstaller with this command. $q (a quote) and
        # $f (the file) are Inno's placeholders, hence the single quotes; a literal $ is $$, and
        # no literal double quote may appear (PowerShell would mangle it on the command line).
        function ConvertTo-InnoText([string]$Text) { return $Text.Replace('$', '$$') }
        $IsccSign = "/Smergedesk=" + '$q' + (ConvertTo-InnoText $SignTool) + '$q' + " sign /f " +
            '$q' + (ConvertTo-InnoText $Pfx) + '$q' + " /p " + '$q' +
            (ConvertTo-InnoText $env:WINDOWS_CERT_PASSWORD) + '$q' +
            " /fd SHA256 /tr " + (ConvertTo-InnoText $Timestamp) + " /td SHA256 /d MergeDesk " + '$f'
        $IsccArgs += @("/DSignIt", $IsccSign)
    } else {
        Write-Warning "WINDOWS_CERT_PFX / WINDOWS_CERT_PASSWORD not set: building UNSIGNED (SmartScreen will warn users)."
    }

    # --- smoke test of the (signed) bundle ---------------------------------------------------
    if (-not $SkipSmokeTest) {
        # Fails if keyring found no Windows Credential Manager backend.
        Invoke-Checked "smoke test (self-test + demo)" {
            uv run python build\smoke_test.py $Bundle --runs 3 --demo
        }
    }

    # --- Inno Setup ----------------------------------------------------------------------------
    $Iscc = Find-Tool "ISCC.exe" @(
        "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe",
        "${env:ProgramFiles}\Inno Setup 6\ISCC.exe",
        "${env:LOCALAPPDATA}\Programs\Inno Setup 6\ISCC.exe"
    )
    if (-not $Iscc) { throw "ISCC.exe not found: install Inno Setup 6.3 or newer" }
    Invoke-Checked "Inno Setup" { & $Iscc @IsccArgs (Join-Path $Root "build\windows\mergedesk.iss") }
    if ($Sign) {
        $Setup = Join-Path $OutDir "MergeDesk-$Version-windows-x64-setup.exe"
        Invoke-Checked "verify setup signature" { & $SignTool verify /pa $Setup }
    }
    $SetupFile = Get-Item (Join-Path $OutDir "MergeDesk-$Version-windows-x64-setup.exe")
    $BundleMB = [math]::Round(((Get-ChildItem -Recurse -File $Bundle | Measure-Object Length -Sum).Sum) / 1MB)
    Write-Host ("bundle: {0} ({1} MB)" -f $Bundle, $BundleMB)
    Write-Host ("setup:  {0} ({1:N0} MB){2}" -f $SetupFile.FullName, ($SetupFile.Length / 1MB),
        $(if ($Sign) { "" } else { " UNSIGNED" }))
} finally {
    if ($TempPfx -and (Test-Path $TempPfx)) { Remove-Item -Force $TempPfx }
    Pop-Location
}
