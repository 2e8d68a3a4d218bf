namespace Polykey.Cli.Tests;

/// <summary>Drives a real terminal program (vim, nano) in a private tmux server: keys in, screen out.</summary>
public sealed class TmuxSession : IDisposable
{
    private readonly string _socket = "pk-test-" + Guid.NewGuid().ToString("N")[..8];
    private const string Name = "edit";

    public TmuxSession(string command, IDictionary<string, string> env)
    {
        string exports = string.Join(' ', env.Select(kv => $"{kv.Key}='{kv.Value}'"));
        Tmux("new-session", "-d", "-s", Name, "-x", "120", "-y", "40", $"env {exports} TERM=xterm {command}");
    }

    /// <summary>Runs one command on a terminal of its own; the screen it left once it finished.</summary>
    public static string ScreenAfter(string[] command, int seconds = 30)
    {
        string line = string.Join(' ', command.Select(word => $"'{word}'"));
        using var terminal = new TmuxSession($"sh -c \"{line}; echo COMMAND-DONE; sleep 60\"", new Dictionary<string, string>());
        terminal.WaitFor("COMMAND-DONE", seconds);
        return terminal.Screen();
    }

    public string Screen() => PkProcess.Run("tmux", ["-L", _socket, "capture-pane", "-p", "-t", Name]).Text;

    public void WaitFor(string text, int seconds = 15)
    {
        for (int i = 0; i < seconds * 20; i++)
        {
            if (Screen().Contains(text, StringComparison.Ordinal)) return;
            Thread.Sleep(50);
        }
        Assert.Fail($"\"{text}\" never appeared on screen:\n{Screen()}");
    }

    public void Keys(params string[] keys) => Tmux(["send-keys", "-t", Name, .. keys]);

    /// <summary>Waits until the program has exited (and with it the tmux session).</summary>
    public void WaitForExit(int seconds = 15)
    {
        for (int i = 0; i < seconds * 20; i++)
        {
            if (PkProcess.Run("tmux", ["-L", _socket, "has-session", "-t", Name]).ExitCode != 0) return;
            Thread.Sleep(50);
        }
        Assert.Fail($"the program did not exit:\n{Screen()}");
    }

    private void Tmux(params string[] args)
    {
        PkResult result = PkProcess.Run("tmux", ["-L", _socket, .. args]);
        Assert.True(result.ExitCode == 0, $"tmux {string.Join(' ', args)}: {result}");
    }

    public void Dispose() => PkProcess.Run("tmux", ["-L", _socket, "kill-server"]);
}
