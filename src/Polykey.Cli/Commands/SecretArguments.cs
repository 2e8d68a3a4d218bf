using System.CommandLine;

namespace Polykey.Cli.Commands;

/// <summary>Arguments shared by the secret commands.</summary>
internal static class SecretArguments
{
    public static Argument<string> Path(string description = "secret path, e.g. prod/db/password") =>
        new("path") { Description = description };

    public static Option<int?> Version(string description) => new("--version") { Description = description };
}
