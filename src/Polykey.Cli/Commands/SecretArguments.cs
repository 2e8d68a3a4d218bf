using System.CommandLine;

namespace Polykey.Cli.Commands;

/// <summary>Arguments shared by the secret commands.</summary>
internal static class SecretArguments
{
    public static Argument<string> Path(string description = "secret path, e.g. prod/db/password") =>
        new Argument<string>("path") { Description = description }.Completes(ValueHint.Secret);

    public static Option<int?> Version(string description) => new("--version") { Description = description, HelpName = "N" };
}
