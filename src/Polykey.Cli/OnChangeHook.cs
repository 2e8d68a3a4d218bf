using System.Diagnostics;

namespace Polykey.Cli;

/// <summary>
/// Runs the user's --on-change command once per outside change, one run at a time, with the
/// changed secret paths in $PK_CHANGED_PATHS (one per line). Never blocks the mount.
/// </summary>
internal sealed class OnChangeHook : IDisposable
{
    private readonly string _command;
    private readonly Dictionary<string, string> _environment;
    private readonly System.Collections.Concurrent.BlockingCollection<IReadOnlyList<string>> _queue = new();
    private readonly Thread _thread;

    public OnChangeHook(string command, string mountPoint, string keynode)
    {
        _command = command;
        _environment = new Dictionary<string, string> { ["PK_MOUNTPOINT"] = mountPoint, ["PK_KEYNODE"] = keynode };
        _thread = new Thread(Run) { IsBackground = true, Name = "on-change-hook" };
        _thread.Start();
    }

    public void Enqueue(IReadOnlyList<string> changedPaths) => _queue.Add(changedPaths);

    private void Run()
    {
        foreach (IReadOnlyList<string> paths in _queue.GetConsumingEnumerable())
        {
            try
            {
                var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add(_command);
                foreach (var (key, value) in _environment) start.Environment[key] = value;
                start.Environment["PK_CHANGED_PATHS"] = string.Join('\n', paths);
                using Process? process = Process.Start(start);
                process?.WaitForExit();
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
            {
                Output.Warning($"the on-change command could not run: {e.Message}");
            }
        }
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(10));
    }
}
