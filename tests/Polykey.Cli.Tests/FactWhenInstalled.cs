namespace Polykey.Cli.Tests;

/// <summary>
/// A test that needs a program this machine may lack (zsh, fish): skipped, with the reason in the
/// results, when the program is not on PATH. scripts/test.sh installs them when run as root, so
/// there they run; a skip elsewhere says what to install.
/// </summary>
public sealed class FactWhenInstalledAttribute : FactAttribute
{
    public FactWhenInstalledAttribute(string program)
    {
        if (!IsOnPath(program)) Skip = $"{program} is not installed (apt-get install {program}; scripts/test.sh does so as root)";
    }

    public static bool IsOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, program)));
}
