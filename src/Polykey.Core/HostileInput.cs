namespace Polykey.Core;

/// <summary>
/// Parsers of bytes from a keynode (BouncyCastle's above all) fail on hostile input with
/// exceptions of many types, some their own. Those are a damaged input, to be reported as
/// such, never an internal error; pk's own failures and running out of memory are not.
/// </summary>
internal static class HostileInput
{
    public static bool IsParseFailure(Exception e) =>
        e is not (PolykeyException or OutOfMemoryException or StackOverflowException or OperationCanceledException);
}
