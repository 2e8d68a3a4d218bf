namespace Polykey.Cli.Tests;

/// <summary>
/// Issue 13: a long operation whose stderr is not a terminal draws no progress. pk runs here
/// with TERM naming a terminal that could draw a bar, so that only stderr being a pipe keeps it away.
/// </summary>
public static class PipedProgress
{
    /// <summary>Runs pk with stderr (and stdout) on pipes; asserts it succeeded and drew nothing of a bar.</summary>
    public static PkResult DrawsNothing(params string[] args)
    {
        PkResult result = Pk.Ok(PkProcess.Pk(args, env: new Dictionary<string, string> { ["TERM"] = "xterm" }));
        string command = args.SkipWhile(a => a.StartsWith('-') || a.Contains('/')).FirstOrDefault() ?? "pk";
        Assert.False(result.Stderr.Contains('%'), $"{command} drew a percentage on a pipe: {result.Stderr}");
        Assert.False(result.Stderr.Contains('\u001b'), $"{command} wrote escape sequences on a pipe: {result.Stderr}");
        Assert.False(result.Stderr.Contains('\r'), $"{command} redrew a line on a pipe: {result.Stderr}");
        return result;
    }
}
