using System.Diagnostics;
using System.Runtime.InteropServices;
using Polykey.Fs.Linux.Native;

namespace Polykey.Fs.Linux;

/// <summary>
/// One mounted <see cref="IFileTree"/>, served through the libfuse3 low-level API by a
/// multi-threaded loop on threads of its own. Start mounts (or throws before anything is
/// served); Unmount or Dispose detaches the mount and frees the session. libfuse's signal
/// handlers are not installed: the owner decides what SIGINT/SIGTERM mean and calls Unmount.
/// (The adapter takes SIGURG for itself, see <see cref="LoopWakeSignal"/>.) Never touch the
/// mount from inside a tree call, nor call Unmount there: the request would wait for itself.
/// </summary>
public sealed unsafe class FuseMount : IDisposable
{
    private static readonly TimeSpan ForcedStopTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan WakeInterval = TimeSpan.FromMilliseconds(100);

    private readonly IFileTree _tree;
    private readonly FuseMountOptions _options;
    private readonly FuseOperations _operations;
    private readonly Lock _gate = new(); // serialises Unmount; the loop thread never takes it
    private readonly Lock _loopGate = new(); // guards signalling the loop thread
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private nint _session;
    private MountEntry? _mounted;
    private Invalidator? _invalidator;
    private Thread? _loop;
    private nuint _loopThread;
    private bool _loopReturned;
    private bool _unmountStarted;
    private volatile bool _releaseWhenLoopEnds;
    private int _released;

    private FuseMount(IFileTree tree, string mountPoint, FuseMountOptions options)
    {
        _tree = tree;
        _options = options;
        MountPoint = mountPoint;
        _operations = new FuseOperations(tree, options);
    }

    /// <summary>The canonical path the tree is mounted on.</summary>
    public string MountPoint { get; }

    /// <summary>Completes when the session stops serving: after Unmount, or when someone else unmounted it.</summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Mounts <paramref name="tree"/> on <paramref name="mountPoint"/> and starts serving it.
    /// Throws <see cref="FuseMountException"/> when the mount point is missing, not a
    /// directory or already mounted, or when libfuse refuses; nothing is left mounted then.
    /// </summary>
    public static FuseMount Start(IFileTree tree, string mountPoint, FuseMountOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tree);
        options ??= new FuseMountOptions();
        options.Validate();
        FusePlatform.Check();
        var mount = new FuseMount(tree, MountPointCheck.Resolve(mountPoint), options);
        try
        {
            mount.Mount();
        }
        catch
        {
            mount.ReleaseNative(forced: true);
            throw;
        }
        return mount;
    }

    /// <summary>Waits until the kernel has connected (FUSE INIT handled); by then every request is served.</summary>
    public void WaitUntilReady(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        var signalled = WaitHandle.WaitAny([_operations.Initialized, ((IAsyncResult)_completion.Task).AsyncWaitHandle], limit);
        if (signalled == 1)
            throw new FuseMountException($"The FUSE session for {MountPoint} ended before the kernel connected.");
        if (signalled == WaitHandle.WaitTimeout)
            throw new TimeoutException($"The kernel did not connect to {MountPoint} within {limit.TotalSeconds:0.#} s.");
    }

    /// <summary>
    /// Detaches the mount (new opens fail at once), lets processes that still hold files
    /// finish for up to <see cref="FuseMountOptions.UnmountTimeout"/>, then stops serving
    /// them and frees the session. Idempotent. Throws <see cref="TimeoutException"/> only
    /// when a tree call itself does not return; the session is then freed when it does.
    /// </summary>
    public void Unmount()
    {
        lock (_gate)
        {
            if (_unmountStarted)
                return;
            _unmountStarted = true;
            _tree.Changed -= OnChanged;
            if (_loop is null)
            {
                ReleaseNative(forced: true);
                return;
            }
            if (MaybeStillMounted())
                KernelUnmount.Detach(MountPoint);
            // Without holders the kernel drops the connection once detached; every worker
            // then reads ENODEV and the loop ends by itself.
            if (_loop.Join(_options.UnmountTimeout))
            {
                ReleaseNative(forced: false);
                return;
            }
            // Still busy: stop serving the holders. fuse_session_exit alone wakes nobody
            // (workers sleep in read(), the loop's own thread in sem_wait), so interrupt the
            // loop's thread (see LoopWakeSignal); it then cancels the workers in read().
            // Closing the device afterwards aborts the connection: holders get ENOTCONN.
            LibFuse.fuse_session_exit(_session);
            var clock = Stopwatch.StartNew();
            while (!_loop.Join(WakeInterval) && clock.Elapsed < ForcedStopTimeout)
                SignalLoopThread(); // again and again: one may arrive just before sem_wait
            if (_loop.IsAlive)
            {
                _releaseWhenLoopEnds = true;
                if (_loop.IsAlive)
                    throw new TimeoutException($"Unmounting {MountPoint}: a request is still running in the tree; the session is freed when it returns.");
            }
            ReleaseNative(forced: true);
        }
    }

    public void Dispose() => Unmount();

    private void Mount()
    {
        var readOnly = _options.ReadOnly || _tree.IsReadOnly;
        var mountOptions = _options.ToMountOptions(readOnly);
        var ops = FuseOperations.Table();
        byte*[] strings = [NativeText.Alloc("polykey-fuse"), NativeText.Alloc("-o"), NativeText.Alloc(mountOptions)];
        try
        {
            fixed (byte** argv = strings)
            {
                var args = new FuseArgs { Argc = strings.Length, Argv = argv, Allocated = 0 };
                _session = LibFuse.fuse_session_new(&args, &ops, (nuint)sizeof(FuseLowLevelOps), _operations.UserData);
                LibFuse.fuse_opt_free_args(&args); // frees only what libfuse allocated while parsing
            }
        }
        finally
        {
            foreach (var s in strings)
                NativeMemory.Free(s);
        }
        if (_session == 0)
            throw new FuseMountException($"libfuse refused the mount options \"{mountOptions}\" (fuse_session_new failed).");

        var path = NativeText.Alloc(MountPoint);
        int result;
        try
        {
            result = LibFuse.fuse_session_mount(_session, path);
        }
        finally
        {
            NativeMemory.Free(path);
        }
        if (result != 0)
        {
            LibFuse.fuse_session_destroy(_session);
            _session = 0;
            throw new FuseMountException($"Mounting {MountPoint} failed (fuse_session_mount); the reason was printed by libfuse or fusermount3 on stderr.");
        }
        _mounted = MountTable.Find(MountPoint);

        LoopWakeSignal.EnsureInstalled();
        _invalidator = new Invalidator(_session, _options.UnexpectedError);
        _tree.Changed += OnChanged;
        _loop = new Thread(RunLoop) { IsBackground = true, Name = "pk-fuse-loop" };
        _loop.Start();
    }

    private void RunLoop()
    {
        _loopThread = LibC.pthread_self();
        var config = LibFuse.fuse_loop_cfg_create();
        try
        {
            if (config != 0)
            {
                // Idle = max: workers are never ended and recreated, so no native thread
                // attaches to the runtime more than once.
                LibFuse.fuse_loop_cfg_set_max_threads(config, (uint)_options.MaxThreads);
                LibFuse.fuse_loop_cfg_set_idle_threads(config, (uint)_options.MaxThreads);
            }
            LibFuse.fuse_session_loop_mt(_session, config);
        }
        finally
        {
            lock (_loopGate)
                _loopReturned = true;
            if (config != 0)
                LibFuse.fuse_loop_cfg_destroy(config);
            if (_releaseWhenLoopEnds)
                ReleaseNative(forced: true);
            _completion.TrySetResult();
        }
    }

    /// <summary>Only while the loop runs: the thread cannot exit (and its id go stale) while we hold _loopGate.</summary>
    private void SignalLoopThread()
    {
        lock (_loopGate)
        {
            if (!_loopReturned && _loopThread != 0)
                LoopWakeSignal.Send(_loopThread);
        }
    }

    private void OnChanged(TreeChange change) => _invalidator?.Enqueue(change);

    /// <summary>Frees the session exactly once, after the loop has ended (or never started).</summary>
    private void ReleaseNative(bool forced)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
            return;
        _tree.Changed -= OnChanged;
        _invalidator?.Dispose();
        if (_session != 0)
        {
            // After a clean detach the connection is gone and fuse_session_unmount only
            // closes the device. After a forced stop it is still alive, and libfuse would
            // also umount the path: only do that while the mount there is still ours.
            if (!forced || MaybeStillMounted())
                LibFuse.fuse_session_unmount(_session);
            LibFuse.fuse_session_destroy(_session);
            _session = 0;
        }
        _operations.Dispose();
        if (_loop is null)
            _completion.TrySetResult();
    }

    /// <summary>False only when the mount table shows our mount is gone (or replaced); true when unsure.</summary>
    private bool MaybeStillMounted()
    {
        if (_mounted is not { } ours)
            return true;
        return MountTable.Find(MountPoint) is { } top && top.DeviceMajor == ours.DeviceMajor && top.DeviceMinor == ours.DeviceMinor;
    }
}
