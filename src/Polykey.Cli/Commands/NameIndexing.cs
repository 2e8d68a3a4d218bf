using Polykey.Core;

namespace Polykey.Cli.Commands;

/// <summary>
/// Appends the keynode's signed name index after a bulk operation (import, gc), so the next
/// reader without caches opens it in the time of what changed since. The operation itself has
/// succeeded by then: an index that cannot be written (a full disk) is a warning, not a failure.
/// </summary>
internal static class NameIndexing
{
    public static void Write(Keynode keynode)
    {
        try
        {
            keynode.WriteNameIndex();
        }
        catch (PolykeyException e)
        {
            Output.Warning($"no name index was written, so the next open without caches reads every history: {e.Message}");
        }
    }
}
