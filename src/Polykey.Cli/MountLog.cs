namespace Polykey.Cli;

/// <summary>
/// The mount's lines on stderr (under systemd, the journal), written by a thread of their own:
/// they are raised while the mount holds its lock, and a stderr nobody reads must not stall it.
/// </summary>
internal sealed class MountLog : IDisposable
{
    private readonly System.Collections.Concurrent.BlockingCollection<string> _lines = new(boundedCapacity: 1024);
    private readonly Thread _thread;

    public MountLog()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "mount-log" };
        _thread.Start();
    }

    /// <summary>Queues a line; when 1,024 are waiting already, it is dropped rather than waited for.</summary>
    public void Write(string line)
    {
        try
        {
            _lines.TryAdd($"pk mount: {line}");
        }
        catch (InvalidOperationException)
        {
            // Closed: the process is ending.
        }
    }

    private void Run()
    {
        foreach (string line in _lines.GetConsumingEnumerable())
        {
            try
            {
                Console.Error.WriteLine(line);
            }
            catch (IOException)
            {
                // A closed stderr: the lines have nowhere to go.
            }
        }
    }

    public void Dispose()
    {
        _lines.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(5)); // what was queued before unmount is written
    }
}
