using System.Collections.Concurrent;
using Polykey.Fs.Linux.Native;

namespace Polykey.Fs.Linux;

/// <summary>
/// Drops the kernel's cached pages, attributes and names when the tree changes behind the
/// mount. The notify calls can block on kernel locks that a request in flight holds, so
/// they run on this thread of their own: never inside a FUSE callback and never while
/// holding anything a callback needs. The tree's Changed handler only enqueues.
/// </summary>
internal sealed unsafe class Invalidator : IDisposable
{
    private readonly nint _session;
    private readonly ConcurrentQueue<TreeChange> _queue = new();
    // No spinning before it sleeps: a spinning waiter steals one of two cores from the save
    // whose invalidations it waits for (BlockingCollection spun here, on every save).
    private readonly ManualResetEventSlim _pending = new(false, spinCount: 0);
    private volatile bool _stopping;
    private readonly Action<Exception>? _unexpectedError;
    private readonly Thread _thread;

    public Invalidator(nint session, Action<Exception>? unexpectedError)
    {
        _session = session;
        _unexpectedError = unexpectedError;
        _thread = new Thread(Run) { IsBackground = true, Name = "pk-fuse-invalidate" };
        _thread.Start();
    }

    public void Enqueue(TreeChange change)
    {
        // Once shutting down (an event raised while we unsubscribe), no kernel cache is left.
        if (_stopping) return;
        _queue.Enqueue(change);
        _pending.Set();
    }

    /// <summary>Stops after the queued changes; must run before the session is destroyed.</summary>
    public void Dispose()
    {
        _stopping = true;
        _pending.Set();
        _thread.Join();
        _pending.Dispose();
    }

    private void Run()
    {
        while (true)
        {
            _pending.Wait();
            _pending.Reset();
            while (_queue.TryDequeue(out TreeChange change)) InvalidateReporting(change);
            if (_stopping) return;
        }
    }

    private void InvalidateReporting(TreeChange change)
    {
        try
        {
            Invalidate(change);
        }
        catch (Exception e)
        {
            try
            {
                _unexpectedError?.Invoke(e);
            }
            catch
            {
                // An unhandled exception here would end the process.
            }
        }
    }

    private void Invalidate(TreeChange change)
    {
        // Errors are expected and ignored: ENOENT when the kernel never saw (or already
        // forgot) the node or name, ENODEV/EBADF once the mount is going away.
        if (change.Name is { } name)
        {
            Span<byte> encoded = stackalloc byte[FuseNames.MaxEncodedLength];
            var length = FuseNames.Encode(name, encoded);
            if (length >= 0)
            {
                fixed (byte* p = encoded)
                    LibFuse.fuse_lowlevel_notify_inval_entry(_session, change.Node, p, (nuint)length);
            }
        }
        // Offset 0, length 0: attributes and every cached page of the node (for a
        // directory: its attributes and cached listing).
        LibFuse.fuse_lowlevel_notify_inval_inode(_session, change.Node, 0, 0);
    }
}
