namespace Polykey.Fs;

/// <summary>
/// Notices when another process appends to the keynode file (inotify through
/// FileSystemWatcher, plus a slow poll for filesystems without it) and refreshes the tree
/// from one background thread, so callbacks never wait on it.
/// </summary>
public sealed class KeynodeWatcher : IDisposable
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private readonly SecretTree _tree;
    private readonly string _path;
    private readonly FileSystemWatcher? _watcher;
    private readonly Thread _thread;
    private readonly AutoResetEvent _wake = new(false);
    private readonly CancellationTokenSource _stop = new();
    private (long Length, DateTime Modified) _seen;
    private int _replaced; // 1 once a file was renamed over the keynode's name, until the watcher reads it

    public KeynodeWatcher(SecretTree tree, string keynodePath, Action<Exception>? onError = null)
    {
        _tree = tree;
        _path = Path.GetFullPath(keynodePath);
        _seen = Stat();
        try
        {
            _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!, Path.GetFileName(_path))
            {
                NotifyFilter = NotifyFilters.Size | NotifyFilters.LastWrite | NotifyFilters.FileName,
            };
            _watcher.Changed += (_, _) => _wake.Set();
            _watcher.Created += (_, _) => Replaced();
            _watcher.Renamed += (_, _) => Replaced();
            _watcher.EnableRaisingEvents = true;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            _watcher = null; // polling alone still works
        }
        _thread = new Thread(() => Run(onError)) { IsBackground = true, Name = "keynode-watcher" };
        _thread.Start();
    }

    private void Run(Action<Exception>? onError)
    {
        while (!_stop.IsCancellationRequested)
        {
            _wake.WaitOne(PollInterval);
            if (_stop.IsCancellationRequested) return;
            var now = Stat();
            bool replaced = Interlocked.Exchange(ref _replaced, 0) == 1;
            if (now == _seen && !replaced) continue;
            _seen = now;
            try
            {
                // Most changes a mount hears of are its own saves: those it knows without the tree's lock.
                if (replaced || _watcher is null || now.Length < 0 || _tree.MayHaveNews(now.Length)) _tree.Refresh();
            }
            catch (Exception e)
            {
                onError?.Invoke(e);
            }
        }
    }

    // A file renamed over the keynode's name (a compaction) may have any length: always read.
    private void Replaced()
    {
        Interlocked.Exchange(ref _replaced, 1);
        _wake.Set();
    }

    private (long Length, DateTime Modified) Stat()
    {
        var info = new FileInfo(_path);
        return info.Exists ? (info.Length, info.LastWriteTimeUtc) : (-1, default);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _wake.Set();
        _watcher?.Dispose();
        _thread.Join(TimeSpan.FromSeconds(5));
        _wake.Dispose();
    }
}
