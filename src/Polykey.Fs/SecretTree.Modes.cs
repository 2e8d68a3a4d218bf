namespace Polykey.Fs;

// Permission bits. The keynode keeps no modes: every file shows the mount's file mode and
// every directory its directory mode (pk mount --mode), and a chmod changes one path's mode
// for as long as this tree lives. A mode follows its name through renames and goes with its
// removal; a file's new versions keep it, as an inode's mode outlives its writes.
public sealed partial class SecretTree
{
    private readonly Dictionary<string, uint> _modes = new(StringComparer.Ordinal);

    /// <summary>The directory mode that goes with a file mode: search (x) wherever read (r) is granted.</summary>
    public static uint DirectoryModeFor(uint fileMode) => fileMode | ((fileMode & 0x124) >> 2); // 0444 -> 0111

    private uint ModeOf(string path, NodeKind kind) =>
        _modes.TryGetValue(path, out uint mode) ? mode : kind == NodeKind.Directory ? _directoryMode : _fileMode;

    private void SetMode(string path, NodeKind kind, uint mode)
    {
        if (mode == (kind == NodeKind.Directory ? _directoryMode : _fileMode)) _modes.Remove(path);
        else _modes[path] = mode;
    }

    private void ForgetModes(string path)
    {
        if (_modes.Count == 0) return;
        foreach (string known in _modes.Keys.Where(k => IsAtOrUnder(k, path)).ToList()) _modes.Remove(known);
    }

    private void MoveModes(string from, string to)
    {
        if (_modes.Count == 0) return;
        ForgetModes(to);
        foreach (string known in _modes.Keys.Where(k => IsAtOrUnder(k, from)).ToList())
        {
            _modes.Remove(known, out uint mode);
            _modes[to + known[from.Length..]] = mode;
        }
    }

    private static bool IsAtOrUnder(string path, string top) =>
        path.Length == top.Length ? path == top : path.StartsWith(top, StringComparison.Ordinal) && path[top.Length] == '/';
}
