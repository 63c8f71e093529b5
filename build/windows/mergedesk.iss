; Inno Setup script for MergeDesk (Inno Setup 6.3 or newer): a per-user install that needs no
; administrator rights. Built by build\windows\build.ps1, which passes:
;   /DAppVersion=<version from pyproject.toml>   /DDistDir=<PyInstaller's dist\MergeDesk>
;   /DOutputDir=<where the setup .exe goes>      /DSignIt + /Smergedesk=... when signing
; It can also be compiled by hand: iscc /DAppVersion=0.1.0 /DDistDir=C:\pyi-dist\MergeDesk mergedesk.iss
;
; Installs to %LOCALAPPDATA%\Programs\MergeDesk ({autopf} in non-administrative mode), adds a
; Start-menu entry and an uninstaller (Settings > Apps). MergeDesk's data is NOT here: it is in
; %LOCALAPPDATA%\MergeDesk (platformdirs), which neither an upgrade nor the uninstaller touches.

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=x.y.z ...
#endif
#ifndef DistDir
  #error Pass PyInstaller's output folder: iscc /DDistDir=...\MergeDesk ...
#endif
#ifndef OutputDir
  #define OutputDir "."
#endif
#define AppName "MergeDesk"
#define AppExe "MergeDesk.exe"
#define CliExe "mergedesk-cli.exe"

[Setup]
; The AppId identifies MergeDesk to Windows across versions: NEVER change it, or upgrades will
; install side by side instead of replacing the old version. ("{{" is a literal "{".)
AppId={{B3172970-7926-4012-BCBA-D55673476363}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
AppPublisherURL=https://mergedesk.app
AppSupportURL=mailto:support@mergedesk.app
VersionInfoVersion={#AppVersion}
VersionInfoProductName={#AppName}
VersionInfoDescription={#AppName} setup
; Per-user: no UAC prompt; {autopf} becomes %LOCALAPPDATA%\Programs and {autoprograms} the
; user's Start menu.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UsePreviousAppDir=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
WizardStyle=modern
SetupIconFile=..\..\resources\icons\mergedesk.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
OutputDir={#OutputDir}
OutputBaseFilename={#AppName}-{#AppVersion}-windows-x64-setup
Compression=lzma2
SolidCompression=yes
; Close a running MergeDesk before replacing its files (Restart Manager), and start it again.
CloseApplications=yes
RestartApplications=no
#ifdef SignIt
; "mergedesk" is defined on the ISCC command line by build.ps1 (/Smergedesk=signtool ... $f).
; Signs the setup .exe and the uninstaller Setup writes.
SignTool=mergedesk
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; A clean upgrade: remove the previous version's program files before copying the new ones, so
; no stale library or module of an older bundle is left behind to be loaded by mistake.
Type: filesandordirs; Name: "{app}\_internal"
Type: files; Name: "{app}\{#AppExe}"
Type: files; Name: "{app}\{#CliExe}"

[Files]
Source: "{#DistDir}\{#AppExe}"; DestDir: "{app}"; Flags: ignoreversion
Source: "{#DistDir}\{#CliExe}"; DestDir: "{app}"; Flags: ignoreversion
Source: "{#DistDir}\_internal\*"; DestDir: "{app}\_internal"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Comment: "Find, merge and cost duplicate patient records in Cliniko"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; Only the program folder. The data folder (%LOCALAPPDATA%\MergeDesk) and the keychain entries
; (Credential Manager, service "MergeDesk") stay; README "Install" says how to remove them.
Type: filesandordirs; Name: "{app}\_internal"
Type: dirifempty; Name: "{app}"
