using System.Text;

namespace Polykey.Core.Git;

/// <summary>A git tree of plain files (mode 100644), enough for a secret version's blobs.</summary>
internal static class Tree
{
    public static byte[] Encode(IEnumerable<(string Name, ObjectId Blob)> entries)
    {
        using var output = new MemoryStream();
        foreach (var (name, blob) in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            output.Write(Encoding.UTF8.GetBytes($"100644 {name}\0"));
            output.Write(blob.ToBytes());
        }
        return output.ToArray();
    }

    public static IReadOnlyDictionary<string, ObjectId> Decode(byte[] content)
    {
        var entries = new Dictionary<string, ObjectId>(StringComparer.Ordinal);
        int pos = 0;
        while (pos < content.Length)
        {
            int space = Array.IndexOf(content, (byte)' ', pos);
            int nul = space < 0 ? -1 : Array.IndexOf(content, (byte)0, space);
            if (nul < 0 || nul + 21 > content.Length) throw PolykeyException.Failed("a git tree in the keynode is malformed");
            string name = Encoding.UTF8.GetString(content, space + 1, nul - space - 1);
            entries[name] = ObjectId.FromBytes(content.AsSpan(nul + 1, 20));
            pos = nul + 21;
        }
        return entries;
    }
}
