using Polykey.Core.Git;
using Polykey.Core.Storage;

namespace Polykey.Core.Tests;

/// <summary>Reads and appends keynode members below the Keynode API, as an attacker with write access to the file would.</summary>
internal static class RawKeynode
{
    public static KeynodeState State(string path)
    {
        using KeynodeFile file = KeynodeFile.Open(path);
        var state = new KeynodeState();
        state.Apply(file.ReadChanges(ScanPoint.Origin), path, new List<string>());
        return state;
    }

    public static byte[] ReadObject(string path, ObjectId id)
    {
        using KeynodeFile file = KeynodeFile.Open(path);
        var state = new KeynodeState();
        state.Apply(file.ReadChanges(ScanPoint.Origin), path, new List<string>());
        Assert.True(state.TryGetObject(id, out TarMember member), $"object {id} is in the file");
        return LooseObject.Decode(id, file.ReadData(member)).Content;
    }

    public static Commit ReadCommit(string path, ObjectId id) => Commit.Decode(id, ReadObject(path, id)).Commit;

    /// <summary>The next version number after <paramref name="parent"/> (1 for a new history).</summary>
    public static long NextSequence(string path, ObjectId? parent) =>
        parent is { } p ? HistoryBinding.TryParse(ReadCommit(path, p).Message)!.Value.Sequence + 1 : 1;

    /// <summary>Appends one well-formed change holding exactly these members.</summary>
    public static void Append(string path, IReadOnlyList<PendingMember> members)
    {
        using KeynodeFile file = KeynodeFile.Open(path);
        using (file.LockExclusive())
            file.WriteChange(file.ReadChanges(ScanPoint.Origin), members, DateTimeOffset.UtcNow);
    }
}
