// The CLI runs on Linux and macOS; a Windows build needs its own process and file-mode code.
[assembly: System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
