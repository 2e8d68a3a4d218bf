using System.Text;

namespace Polykey.Cli.Tests;

/// <summary>
/// Runs a command line on a pseudo-terminal (util-linux `script`), so pk sees a terminal on
/// stdout and stderr, and returns every byte it wrote there, escape sequences included.
/// </summary>
public static class PseudoTerminal
{
    public static string Run(params string[] command)
    {
        string line = string.Join(' ', command.Select(Quote));
        PkResult result = PkProcess.Run("script", ["--quiet", "--return", "--command", line, "/dev/null"]);
        return Encoding.UTF8.GetString(result.Stdout);
    }

    private static string Quote(string word) => "'" + word.Replace("'", "'\\''") + "'";
}
