using System.Text;
using Polykey.Core.Storage;

namespace Polykey.Core.Git;

/// <summary>
/// Git's packed-refs file as a keynode holds it: an optional `# pack-refs with:` line, then one
/// `&lt;40 hex&gt; &lt;ref name&gt;` line per history (refs/secrets/ or refs/conflicts/ + 32 hex),
/// sorted by name, each name once, nothing else (no peeled lines: a keynode has no tags).
/// </summary>
internal static class PackedRefs
{
    public const string HeaderLine = "# pack-refs with: peeled fully-peeled sorted ";
    private const int MaxHeaderLine = 256;

    public static byte[] Write(IEnumerable<KeyValuePair<string, ObjectId>> refs)
    {
        var text = new StringBuilder(HeaderLine).Append('\n');
        foreach ((string name, ObjectId tip) in refs.OrderBy(r => r.Key, StringComparer.Ordinal))
            text.Append(tip.Hex).Append(' ').Append(name).Append('\n');
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>The entries in file order; null with <paramref name="refused"/> saying why when any line breaks the form.</summary>
    public static List<KeyValuePair<string, ObjectId>>? TryRead(ReadOnlySpan<byte> data, out string refused)
    {
        refused = "";
        var entries = new List<KeyValuePair<string, ObjectId>>();
        int at = 0, line = 0;
        while (at < data.Length)
        {
            line++;
            int end = data[at..].IndexOf((byte)'\n');
            if (end < 0)
            {
                refused = $"line {line} has no newline";
                return null;
            }
            ReadOnlySpan<byte> text = data.Slice(at, end);
            at += end + 1;
            if (line == 1 && text.StartsWith("# pack-refs with:"u8))
            {
                if (text.Length > MaxHeaderLine || text.ContainsAnyExceptInRange((byte)0x20, (byte)0x7e))
                {
                    refused = "its header line is malformed";
                    return null;
                }
                continue;
            }
            if (entries.Count == Limits.MaxPackedRefs)
            {
                refused = $"it holds more than {Limits.MaxPackedRefs} refs";
                return null;
            }
            if (Entry(text) is not { } entry)
            {
                refused = $"line {line} is not a commit id and a history's ref name";
                return null;
            }
            if (entries.Count > 0 && string.CompareOrdinal(entries[^1].Key, entry.Key) >= 0)
            {
                refused = $"line {line} is out of order or repeats a ref";
                return null;
            }
            entries.Add(entry);
        }
        return entries;
    }

    private static KeyValuePair<string, ObjectId>? Entry(ReadOnlySpan<byte> line)
    {
        if (line.Length < 42 || line[40] != (byte)' ' || line[..40].ContainsAnyExcept("0123456789abcdef"u8)) return null;
        string name = Encoding.ASCII.GetString(line[41..]);
        string? id = name.StartsWith(KeynodeLayout.SecretRefPrefix, StringComparison.Ordinal) ? name[KeynodeLayout.SecretRefPrefix.Length..]
            : name.StartsWith(KeynodeLayout.ConflictRefPrefix, StringComparison.Ordinal) ? name[KeynodeLayout.ConflictRefPrefix.Length..]
            : null;
        if (id is null || !KeynodeLayout.IsHistoryId(id)) return null;
        return new(name, new ObjectId(Encoding.ASCII.GetString(line[..40])));
    }
}
