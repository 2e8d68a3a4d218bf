using Polykey.Core.Git;

namespace Polykey.Core.Storage;

/// <summary>
/// Reads a git object from where the file holds it, a loose member or an entry of a pack,
/// checked the same way either way: bounded before inflating, its SHA-1 against its name.
/// </summary>
internal static class StoredObjects
{
    public static ObjectStream Open(KeynodeFile file, ObjectId id, TarMember place, long maxContent) => place.IsPackedObject
        ? ObjectStream.OpenPacked(id, file.OpenData(place), place.Size, maxContent)
        : ObjectStream.Open(id, file.OpenData(place), place.Size, maxContent);

    /// <summary>The object whole: its kind and content, checked.</summary>
    public static WholeObject ReadWhole(KeynodeFile file, ObjectId id, TarMember place)
    {
        using ObjectStream stream = Open(file, id, place, LooseObject.MaxObjectBytes(ObjectType.Blob));
        byte[] content = new byte[stream.ContentLength];
        stream.ReadExactly(content);
        stream.Finish();
        return new WholeObject(id, stream.Type, content);
    }

    /// <summary>
    /// The object as a loose object's bytes (what pulls, pushes and revocation certificates carry):
    /// a loose member as stored; a packed one inflated, checked and compressed again.
    /// </summary>
    public static byte[] ReadLoose(KeynodeFile file, ObjectId id, TarMember place)
    {
        if (!place.IsPackedObject) return file.ReadData(place);
        WholeObject whole = ReadWhole(file, id, place);
        return LooseObject.Encode(whole.Type, whole.Content).Compressed;
    }
}
