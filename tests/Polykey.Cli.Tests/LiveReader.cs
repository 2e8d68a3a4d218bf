namespace Polykey.Cli.Tests;

/// <summary>
/// An app reading one file of a mount in a loop while another process replaces its value:
/// when the new value first showed, and every read that failed or was neither value (torn).
/// </summary>
internal sealed class LiveReader : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly List<string> _bad = new();
    private DateTime? _sawNew;

    public LiveReader(string file, string oldValue, string newValue)
    {
        _loop = Task.Run(() =>
        {
            while (!_stop.IsCancellationRequested)
            {
                string value;
                try { value = File.ReadAllText(file); }
                catch (IOException e) { lock (_bad) _bad.Add(e.Message); continue; }
                if (value == newValue) _sawNew ??= DateTime.UtcNow;
                else if (value != oldValue) lock (_bad) _bad.Add($"torn read of {value.Length} bytes");
            }
        });
        Thread.Sleep(300); // reading the old value for a while first
    }

    /// <summary>Waits up to 3 s for the new value, reads on a little longer, stops; asserts every read was whole and it came within 1 s of <paramref name="changed"/>.</summary>
    public void AssertNewValueWithinOneSecondOf(DateTime changed)
    {
        for (int i = 0; i < 60 && _sawNew is null; i++) Thread.Sleep(50);
        Thread.Sleep(300);
        Dispose();
        Assert.Empty(_bad);
        Assert.NotNull(_sawNew);
        Assert.True(_sawNew.Value - changed < TimeSpan.FromSeconds(1), $"the new value showed after {(_sawNew.Value - changed).TotalMilliseconds} ms");
    }

    /// <summary>What an --on-change hook appended to its log, once it has run (and had time to run twice, if it wrongly would).</summary>
    public static string HookLog(string path)
    {
        for (int i = 0; i < 40 && !File.Exists(path); i++) Thread.Sleep(50);
        Thread.Sleep(300);
        return File.ReadAllText(path);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait();
    }
}
