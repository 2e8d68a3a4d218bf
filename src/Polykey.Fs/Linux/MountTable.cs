using System.Text;

namespace Polykey.Fs.Linux;

/// <summary>One line of /proc/self/mountinfo, reduced to what the adapter needs.</summary>
internal readonly record struct MountEntry(string MountPoint, string FsType, uint DeviceMajor, uint DeviceMinor);

/// <summary>
/// Reads this mount namespace's mount table. Used to refuse a mount point that is already
/// mounted (checked before touching the path, because a dead FUSE mount fails every stat)
/// and to find the connection number of our own mount.
/// </summary>
internal static class MountTable
{
    private const string Path = "/proc/self/mountinfo";

    public static MountEntry? Find(string mountPoint)
    {
        MountEntry? found = null;
        foreach (var line in File.ReadLines(Path))
        {
            if (TryParse(line, out var entry) && entry.MountPoint == mountPoint)
                found = entry; // the last one is the topmost mount
        }
        return found;
    }

    // Format: id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    private static bool TryParse(string line, out MountEntry entry)
    {
        entry = default;
        var fields = line.Split(' ');
        var dash = Array.IndexOf(fields, "-");
        if (fields.Length < 5 || dash < 0 || dash + 1 >= fields.Length)
            return false;
        var device = fields[2].Split(':');
        if (device.Length != 2 || !uint.TryParse(device[0], out var major) || !uint.TryParse(device[1], out var minor))
            return false;
        entry = new MountEntry(Unescape(fields[4]), fields[dash + 1], major, minor);
        return true;
    }

    /// <summary>The kernel writes space, tab, newline and backslash in paths as \ooo octal escapes.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\'))
            return field;
        var bytes = new List<byte>(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
            {
                bytes.Add((byte)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(field[i].ToString()));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool IsOctal(string s, int start)
    {
        if (start + 3 > s.Length)
            return false;
        for (var i = start; i < start + 3; i++)
        {
            if (s[i] < '0' || s[i] > '7')
                return false;
        }
        return true;
    }
}
