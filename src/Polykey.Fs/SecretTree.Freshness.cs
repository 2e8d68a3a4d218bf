namespace Polykey.Fs;

// A keynode that refuses a stale origin's secrets (pk remote add --max-age D --refuse-stale)
// refuses them through the mount too. Every open or uncached read of a file asks the keynode;
// and at the moment an origin goes stale the kernel's cached pages and the decrypted values
// held here are dropped, so no read is answered from memory past that moment.
public sealed partial class SecretTree
{
    private Timer? _staleTimer;
    private bool _disposed;

    private void RequireServed(string path) => Served(() =>
    {
        _keynode.RequireFresh(path);
        return true;
    });

    // Armed at start and after every refresh: a pulled statement moves the moment forward.
    private void ArmStaleTimer()
    {
        if (_disposed) return;
        if (_keynode.StaleAt() is not { } at)
        {
            _staleTimer?.Change(Timeout.Infinite, Timeout.Infinite);
            return;
        }
        TimeSpan due = at - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(20);
        if (due < TimeSpan.Zero) due = TimeSpan.Zero;
        if (due > TimeSpan.FromDays(1)) due = TimeSpan.FromDays(1); // re-armed then; Timer's range is not the limit
        _staleTimer ??= new Timer(_ => OnStale(), null, Timeout.Infinite, Timeout.Infinite);
        _staleTimer.Change(due, Timeout.InfiniteTimeSpan);
    }

    private void OnStale()
    {
        lock (_gate)
        {
            if (_disposed) return;
            foreach ((string path, ulong node) in _nodes.Known())
            {
                DropCached(path);
                Changed?.Invoke(new TreeChange(node));
            }
            ArmStaleTimer();
        }
    }

    private void StopStaleTimer()
    {
        _disposed = true;
        _staleTimer?.Dispose();
        _staleTimer = null;
    }
}
