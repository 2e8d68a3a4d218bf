namespace Polykey.Cli.Tests;

/// <summary>
/// A real interactive shell (bash, zsh) in tmux, started in a directory with the pk under test
/// first on PATH: keys go in, the screen comes out, so completion runs exactly as for a person.
/// </summary>
public sealed class InteractiveShell : IDisposable
{
    private readonly TmuxSession _terminal;

    public InteractiveShell(string shell, string directory)
    {
        string bin = PkProcess.Binary.Contains('/') ? Path.GetDirectoryName(Path.GetFullPath(PkProcess.Binary))! : "";
        var env = new Dictionary<string, string> { ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}" };
        _terminal = new TmuxSession($"sh -c 'cd {directory} && exec {shell}'", env);
    }

    /// <summary>Runs a command line and waits until the shell has printed <paramref name="done"/>.</summary>
    public void Run(string line, string done)
    {
        _terminal.Keys(line, "Enter");
        _terminal.WaitFor(done);
    }

    /// <summary>
    /// Types <paramref name="text"/>, Tab, then a marker '@' so that what Tab inserted, trailing
    /// space or not, shows on screen; waits for <paramref name="expected"/> (with the marker),
    /// then takes the marker back.
    /// </summary>
    public void Complete(string text, string expected)
    {
        _terminal.Keys([.. text.Length > 0 ? [text] : Array.Empty<string>(), "Tab", "@"]);
        _terminal.WaitFor(expected);
        _terminal.Keys("BSpace");
    }

    /// <summary>Drops the line being typed (Ctrl-U).</summary>
    public void ClearLine() => _terminal.Keys("C-u");

    public string Screen() => _terminal.Screen();

    public void Dispose() => _terminal.Dispose();
}
