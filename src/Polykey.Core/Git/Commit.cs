using System.Globalization;
using System.Text;

namespace Polykey.Core.Git;

/// <summary>
/// A git commit as a keynode writes it: one tree, at most one parent (two for the version that
/// settles a conflict: <see cref="Merged"/> is the other side's tip), a fixed message that says
/// nothing about the secret, and an OpenPGP signature in the gpgsig header.
/// </summary>
public sealed record Commit(ObjectId Tree, ObjectId? Parent, string SignerFingerprint, DateTimeOffset Time, string Message, ObjectId? Merged = null)
{
    /// <summary>Every parent: none for a root, the previous version, and the merged tip of a settled conflict.</summary>
    public IEnumerable<ObjectId> Parents
    {
        get
        {
            if (Parent is { } parent) yield return parent;
            if (Merged is { } merged) yield return merged;
        }
    }

    public const string StandardMessage = "polykey version\n";
    // 9999-12-31T23:59:59Z: the last second a DateTimeOffset can hold.
    private const long MaxUnixSeconds = 253402300799;
    private const string AuthorName = "polykey";

    /// <summary>The bytes that are signed: the commit without its gpgsig header.</summary>
    public byte[] Payload()
    {
        var sb = new StringBuilder();
        AppendHeaders(sb);
        sb.Append('\n').Append(Message);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>The full commit object content with the armored signature embedded.</summary>
    public byte[] Encode(string armoredSignature)
    {
        var sb = new StringBuilder();
        AppendHeaders(sb);
        string[] lines = armoredSignature.TrimEnd('\n', '\r').Replace("\r", "").Split('\n');
        sb.Append("gpgsig ").Append(lines[0]).Append('\n');
        foreach (string line in lines.Skip(1)) sb.Append(' ').Append(line).Append('\n');
        sb.Append('\n').Append(Message);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private void AppendHeaders(StringBuilder sb)
    {
        string ident = $"{AuthorName} <{SignerFingerprint}> {Time.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)} +0000";
        sb.Append("tree ").Append(Tree.Hex).Append('\n');
        foreach (ObjectId parent in Parents) sb.Append("parent ").Append(parent.Hex).Append('\n');
        sb.Append("author ").Append(ident).Append('\n');
        sb.Append("committer ").Append(ident).Append('\n');
    }

    /// <summary>What git verifies a commit's signature against: the raw commit with its gpgsig header (and continuation lines) removed.</summary>
    public static byte[] SignedPayload(byte[] raw)
    {
        string text = Encoding.UTF8.GetString(raw);
        int split = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0) return raw;
        var kept = new StringBuilder();
        bool inSignature = false;
        foreach (string line in text[..split].Split('\n'))
        {
            if (inSignature && line.StartsWith(' ')) continue;
            inSignature = line.StartsWith("gpgsig ", StringComparison.Ordinal);
            if (!inSignature) kept.Append(line).Append('\n');
        }
        kept.Append(text[(split + 1)..]);
        return Encoding.UTF8.GetBytes(kept.ToString());
    }

    /// <summary>Parses a commit; returns it with its armored signature (null when unsigned).</summary>
    public static (Commit Commit, string? Signature) Decode(ObjectId id, byte[] content)
    {
        string text = Encoding.UTF8.GetString(content);
        int split = text.IndexOf("\n\n", StringComparison.Ordinal);
        if (split < 0) throw Malformed(id, "no message");
        string[] lines = text[..split].Split('\n');
        ObjectId? tree = null, parent = null, merged = null;
        string? signer = null;
        DateTimeOffset? time = null;
        StringBuilder? signature = null;
        bool inSignature = false;
        foreach (string line in lines)
        {
            if (inSignature && line.StartsWith(' '))
            {
                signature!.Append('\n').Append(line[1..]);
                continue;
            }
            inSignature = false;
            int space = line.IndexOf(' ');
            if (space < 0) throw Malformed(id, "a header without a value");
            string key = line[..space], value = line[(space + 1)..];
            switch (key)
            {
                case "tree":
                    tree = Parse(id, value);
                    break;
                case "parent" when parent is null:
                    parent = Parse(id, value);
                    break;
                case "parent" when merged is null:
                    merged = Parse(id, value);
                    break;
                case "parent":
                    throw Malformed(id, "more than two parents");
                case "committer":
                    (signer, time) = ParseIdent(id, value);
                    break;
                case "gpgsig":
                    signature = new StringBuilder(value);
                    inSignature = true;
                    break;
            }
        }
        if (tree is null || signer is null || time is null) throw Malformed(id, "a missing tree or committer");
        var commit = new Commit(tree.Value, parent, signer, time.Value, text[(split + 2)..], merged);
        return (commit, signature?.Append('\n').ToString());
    }

    private static (string, DateTimeOffset) ParseIdent(ObjectId id, string value)
    {
        int open = value.IndexOf('<'), close = value.IndexOf('>');
        if (open < 0 || close < open) throw Malformed(id, "a malformed committer");
        string[] rest = value[(close + 1)..].Trim().Split(' ');
        if (!long.TryParse(rest[0], NumberStyles.None, CultureInfo.InvariantCulture, out long seconds) || seconds > MaxUnixSeconds)
            throw Malformed(id, "a malformed time");
        return (value[(open + 1)..close], DateTimeOffset.FromUnixTimeSeconds(seconds));
    }

    private static ObjectId Parse(ObjectId commit, string hex) =>
        ObjectId.TryParse(hex, out ObjectId id) ? id : throw Malformed(commit, "a malformed object name");

    private static PolykeyException Malformed(ObjectId id, string why) =>
        PolykeyException.Failed($"commit {id} in the keynode is malformed: {why}", "run 'pk verify' for a full report");
}
