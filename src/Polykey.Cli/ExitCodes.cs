using Polykey.Core;

namespace Polykey.Cli;

/// <summary>The exit codes of CLI.md, in one place.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int Usage = 2;
    public const int NotFound = 3;
    public const int AccessDenied = 4;
    public const int Conflict = 5;

    public static int For(FailureKind kind) => kind switch
    {
        FailureKind.Usage => Usage,
        FailureKind.NotFound => NotFound,
        FailureKind.AccessDenied => AccessDenied,
        FailureKind.Conflict => Conflict,
        _ => Failure,
    };
}
