using System.Text;
using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core;

/// <summary>
/// The body of a pruned statement (docs/keynode-format.md §5.5.3): the owner's signed word that
/// the values of some old versions were dropped on purpose. Each line names a history and one of
/// its commits; that commit and every commit it descends from may lack its blob. The set is
/// cumulative, so the newest statement alone says everything pruned so far. The body is read
/// from the file, so it is hostile input: parsed strictly, every line of one fixed shape.
/// </summary>
internal sealed class PrunedStatement
{
    private const string Magic = "polykey-pruned 1\n";
    // "<32 hex> <40 hex>\n"
    private const int LineBytes = 32 + 1 + 40 + 1;

    public static readonly PrunedStatement Empty = new([]);

    private PrunedStatement(IReadOnlyList<(string History, ObjectId Through)> lines) => Lines = lines;

    /// <summary>Sorted by history id, then commit id; no line twice.</summary>
    public IReadOnlyList<(string History, ObjectId Through)> Lines { get; }


    public static PrunedStatement Of(IEnumerable<(string History, ObjectId Through)> lines) =>
        new(lines.Distinct().OrderBy(l => l.History, StringComparer.Ordinal).ThenBy(l => l.Through.Hex, StringComparer.Ordinal).ToList());

    public byte[] Serialize()
    {
        var text = new StringBuilder(Magic, Magic.Length + Lines.Count * LineBytes);
        foreach ((string history, ObjectId through) in Lines) text.Append(history).Append(' ').Append(through.Hex).Append('\n');
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>The statement, or null when the body is not exactly what <see cref="Serialize"/> writes.</summary>
    public static PrunedStatement? TryParse(ReadOnlySpan<byte> body)
    {
        if (!body.StartsWith(Encoding.ASCII.GetBytes(Magic)) || (body.Length - Magic.Length) % LineBytes != 0) return null;
        var lines = new List<(string, ObjectId)>((body.Length - Magic.Length) / LineBytes);
        for (int at = Magic.Length; at < body.Length; at += LineBytes)
        {
            ReadOnlySpan<byte> line = body.Slice(at, LineBytes);
            if (line[32] != (byte)' ' || line[^1] != (byte)'\n') return null;
            string history = Encoding.ASCII.GetString(line[..32]);
            string commit = Encoding.ASCII.GetString(line.Slice(33, 40));
            if (!KeynodeLayout.IsHistoryId(history) || commit.Any(c => !char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c))) return null;
            lines.Add((history, new ObjectId(commit)));
        }
        // Sorted and unique, as written: one reading only.
        for (int i = 1; i < lines.Count; i++)
        {
            int order = string.CompareOrdinal(lines[i - 1].Item1, lines[i].Item1);
            if (order > 0 || order == 0 && string.CompareOrdinal(lines[i - 1].Item2.Hex, lines[i].Item2.Hex) >= 0) return null;
        }
        return new PrunedStatement(lines);
    }
}
