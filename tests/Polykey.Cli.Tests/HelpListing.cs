using System.Text.RegularExpressions;

namespace Polykey.Cli.Tests;

/// <summary>What `pk --help` lists, read independently of the completion and man page generators.</summary>
public static class HelpListing
{
    /// <summary>The command names in the Commands: section of `pk [path] --help`.</summary>
    public static List<string> Commands(params string[] path)
    {
        string help = Pk.Ok(PkProcess.Pk([.. path, "--help"])).Text;
        int start = help.IndexOf("\nCommands:\n", StringComparison.Ordinal);
        if (start < 0) return [];
        return Regex.Matches(help[start..], @"^  ([a-z][a-z-]*)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
    }

    /// <summary>Every command's full path: "pk get", "pk identity show", ...</summary>
    public static List<string> AllCommandPaths()
    {
        var paths = new List<string>();
        foreach (string command in Commands())
        {
            paths.Add($"pk {command}");
            paths.AddRange(Commands(command).Select(sub => $"pk {command} {sub}"));
        }
        return paths;
    }
}
