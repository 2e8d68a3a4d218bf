namespace Polykey.Core.Git;

/// <summary>A git object name: the SHA-1 of the object's header and content.</summary>
public readonly record struct ObjectId(string Hex)
{
    public static ObjectId FromBytes(ReadOnlySpan<byte> raw) => new(Convert.ToHexStringLower(raw));

    public static bool TryParse(string text, out ObjectId id)
    {
        id = default;
        if (text.Length != 40 || !text.All(Uri.IsHexDigit)) return false;
        id = new ObjectId(text.ToLowerInvariant());
        return true;
    }

    public byte[] ToBytes() => Convert.FromHexString(Hex);

    /// <summary>Where git keeps the object as a loose file: objects/ab/cdef…</summary>
    public string LoosePath => $"objects/{Hex[..2]}/{Hex[2..]}";

    public override string ToString() => Hex;
}
