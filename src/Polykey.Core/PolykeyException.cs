namespace Polykey.Core;

/// <summary>What kind of failure an operation met; the CLI maps each to one exit code.</summary>
public enum FailureKind
{
    Failure = 1,
    Usage = 2,
    NotFound = 3,
    AccessDenied = 4,
    Conflict = 5,
}

/// <summary>
/// A failure meant for the user: the message is one readable line naming what failed and
/// where. It must never contain secret values or secret names of other secrets.
/// </summary>
public class PolykeyException : Exception
{
    public PolykeyException(FailureKind kind, string message, string? hint = null, Exception? inner = null)
        : base(message, inner)
    {
        Kind = kind;
        Hint = hint;
    }

    public FailureKind Kind { get; }
    public string? Hint { get; }

    public static PolykeyException NotFound(string message, string? hint = null) => new(FailureKind.NotFound, message, hint);
    public static PolykeyException Denied(string message, string? hint = null) => new(FailureKind.AccessDenied, message, hint);
    public static PolykeyException Conflict(string message, string? hint = null) => new(FailureKind.Conflict, message, hint);
    public static PolykeyException Usage(string message, string? hint = null) => new(FailureKind.Usage, message, hint);
    public static PolykeyException Failed(string message, string? hint = null, Exception? inner = null) => new(FailureKind.Failure, message, hint, inner);
}
