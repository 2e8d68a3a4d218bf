using System.Diagnostics;
using System.Runtime.InteropServices;
using Xunit.Abstractions;

namespace Polykey.Cli.Tests;

/// <summary>
/// Issue 12: a seeded random sequence of file operations on one secret in a real mount and, in
/// lockstep, on one file in tmpfs. Every operation's results must agree (return value, errno,
/// the bytes a read or a map returns, the size fstat shows); the whole file is compared byte for
/// byte every 250 operations, after each reopen and fsync, and at the end; and at the end the
/// keynode must hold what tmpfs holds. PK_FUZZ_SEED=N replays a failing seed,
/// PK_FUZZ_OPS=N runs a longer (or shorter) sequence, PK_FUZZ_LOG=FILE keeps the whole
/// operation log, to cut a failing sequence down to a short reproduction.
/// </summary>
public sealed class RandomOpsTests : IDisposable
{
    private const string Secret = "fuzzed";

    private readonly ITestOutputHelper _output;
    private readonly TestKeynode _node = new TestKeynode().Init();
    // The reference file lives in tmpfs: a plain local filesystem, and nothing of it reaches a disk.
    private readonly string _tmpfs = Path.Combine("/dev/shm", "pk-randomops-" + Guid.NewGuid().ToString("N")[..8]);

    public RandomOpsTests(ITestOutputHelper output)
    {
        _output = output;
        Directory.CreateDirectory(_tmpfs);
    }

    private const long TmpfsMagic = 0x01021994; // TMPFS_MAGIC, linux/magic.h

    [DllImport("libc", SetLastError = true)]
    private static extern int statfs(string path, byte[] buffer);

    /// <summary>The f_type of the filesystem holding <paramref name="path"/> (the first field of struct statfs).</summary>
    private static long FileSystemType(string path)
    {
        byte[] buffer = new byte[256]; // struct statfs is 120 bytes on x86_64 and arm64
        Assert.True(statfs(path, buffer) == 0, $"statfs {path}: errno {Marshal.GetLastPInvokeError()}");
        return BitConverter.ToInt64(buffer, 0);
    }

    [Fact]
    public void WriteBackMount_AgreesWithTmpfs() => AgreesWithTmpfs();

    [Fact]
    public void PinVersionsMount_AgreesWithTmpfs() => AgreesWithTmpfs("--pin-versions");

    private void AgreesWithTmpfs(params string[] mountOptions)
    {
        // Another filesystem's answers would not be the reference the test claims, and a disk would keep the bytes.
        long type = FileSystemType(_tmpfs);
        Assert.True(type == TmpfsMagic, $"{_tmpfs} is not in tmpfs (statfs type 0x{type:x}, tmpfs is 0x{TmpfsMagic:x}): the reference file must be");
        int seed = Environment.GetEnvironmentVariable("PK_FUZZ_SEED") is { Length: > 0 } given ? int.Parse(given) : Random.Shared.Next();
        int operations = Environment.GetEnvironmentVariable("PK_FUZZ_OPS") is { Length: > 0 } count ? int.Parse(count) : 3000;
        string mode = mountOptions.Length == 0 ? "write-back" : string.Join(' ', mountOptions);
        _output.WriteLine($"mode {mode}, PK_FUZZ_SEED={seed}");
        var random = new Random(seed);
        string reference = Path.Combine(_tmpfs, Secret);

        // Start from a secret stored before the mount, or from a file created through it:
        // the mount opens the two by different paths.
        bool createInMount = random.Next(2) == 0;
        if (!createInMount)
        {
            byte[] initial = new byte[random.Next(64 << 10)];
            random.NextBytes(initial);
            Pk.Ok(_node.Set(Secret, initial));
            File.WriteAllBytes(reference, initial);
        }

        var clock = Stopwatch.StartNew();
        byte[] expected;
        RandomOps run;
        using (var mount = new TestMount(_node, mountOptions))
        {
            run = new RandomOps(random, mount[Secret], reference, seed, mode, StoredValue, pinVersions: mountOptions.Contains("--pin-versions"));
            // A hung mount would block a syscall for good: fail with the log instead of hanging the test run.
            Task sequence = Task.Run(() => run.Run(createInMount, operations));
            // 3000 operations take 10-25 s; a long PK_FUZZ_OPS run gets 40 ms an operation.
            var patience = TimeSpan.FromSeconds(Math.Max(120, operations / 25));
            if (!((IAsyncResult)sequence).AsyncWaitHandle.WaitOne(patience))
            {
                string report = run.Report($"no answer within {patience.TotalSeconds} s");
                _output.WriteLine(report); // the busy mount's failed unmount will replace this failure
                Assert.Fail(report);
            }
            try
            {
                sequence.GetAwaiter().GetResult(); // rethrows a mismatch as it was thrown
            }
            finally
            {
                if (Environment.GetEnvironmentVariable("PK_FUZZ_LOG") is { Length: > 0 } logFile)
                    File.WriteAllLines(logFile, run.FullLog());
            }
            foreach (string note in run.Notes)
                _output.WriteLine(note);
            _output.WriteLine($"{operations} operations in {clock.Elapsed.TotalSeconds:F1} s: {run.Summary()}");
            _output.WriteLine($"slowest: {string.Join("; ", run.Slowest(3))}");

            expected = File.ReadAllBytes(reference);
            AssertSame(run, expected, File.ReadAllBytes(mount[Secret]), "reading the mount's file after the last close");
            // Some saves wait for a quiet second or three (docs/mount.md, "Saving"), so the keynode may lag a little.
            byte[] stored = [];
            SpinWait.SpinUntil(() => (stored = StoredValue()).AsSpan().SequenceEqual(expected), TimeSpan.FromSeconds(8));
            AssertSame(run, expected, stored, "pk get after the last close");
            _output.WriteLine($"keynode {new FileInfo(_node.Path).Length >> 20} MiB, {Versions()} versions of the file");
        }
        AssertSame(run, expected, StoredValue(), "pk get after unmount");
        Pk.Ok(_node.Run("verify"));
        _output.WriteLine($"whole test {clock.Elapsed.TotalSeconds:F1} s");
    }

    // Read through the mount, the bytes always agreed with tmpfs; the random sequence also found
    // that one save in the write-back mount could be many versions, against docs/mount.md ("write +
    // close: one version"): the kernel hands dirty pages over as one WRITE per contiguous run of
    // pages at close and fsync, and one WRITE per page when a truncation changes the size of a file
    // with dirty pages, and the mount saved every WRITE under 1 MiB at once (a 700 KB file written
    // and then truncated stored 175 versions of itself). Now a WRITE short of the file's end waits
    // for the end of its pass. These are the minimal cases, and pin mode's fsync of an emptied file.

    [Fact]
    public void WriteBack_DirtyPagesWrittenBackByATruncate_AreOneVersion()
    {
        Pk.Ok(_node.Set(Secret, new byte[8192]));
        using var mount = new TestMount(_node);
        WriteAndClose(mount[Secret], [(0, 8192)], truncateTo: 10_000);
        Thread.Sleep(1500); // past the quiet second, for any save still waiting
        Assert.Equal(2, Versions()); // the value, then one version (not one per page handed over)
        Assert.Equal([.. Enumerable.Repeat((byte)'x', 8192), .. new byte[10_000 - 8192]], StoredValue());
    }

    [Fact]
    public void WriteBack_TwoSeparateWritesThenClose_AreOneVersion()
    {
        Pk.Ok(_node.Set(Secret, new byte[200_000]));
        using var mount = new TestMount(_node);
        WriteAndClose(mount[Secret], [(0, 1), (100_000, 1)], truncateTo: null);
        Thread.Sleep(1500);
        Assert.Equal(2, Versions()); // not a middle one with only the first write
    }

    // Found by the random sequence in --pin-versions mode (a reopen with O_TRUNC, then fsync):
    // fsync returned 0 but the keynode kept the old value until the last close. docs/mount.md:
    // with --pin-versions "the save happens at close or fsync, for every kind of change"; the one
    // exception it names is a close, not an fsync.
    [Fact]
    public unsafe void PinVersions_FsyncOfAnEmptiedFile_SavesIt()
    {
        Pk.Ok(_node.Set(Secret, new byte[100]));
        using var mount = new TestMount(_node, "--pin-versions");
        int fd = RandomOps.Native.open(mount[Secret], RandomOps.Native.O_RDWR | RandomOps.Native.O_CLOEXEC, 0);
        Assert.True(fd >= 0, $"open: errno {Marshal.GetLastPInvokeError()}");
        try
        {
            Assert.Equal(0, RandomOps.Native.ftruncate(fd, 0)); // or open with O_TRUNC: the same
            Assert.Equal(0, RandomOps.Native.fsync(fd));
            Assert.Empty(_node.Get(Secret)); // saved by the fsync, not only at the close
        }
        finally
        {
            RandomOps.Native.close(fd);
        }
    }

    /// <summary>pwrite 'x' over each stretch, maybe ftruncate, then close: the exact calls, no .NET buffering.</summary>
    private static unsafe void WriteAndClose(string path, (long Offset, int Length)[] stretches, long? truncateTo)
    {
        int fd = RandomOps.Native.open(path, RandomOps.Native.O_RDWR | RandomOps.Native.O_CLOEXEC, 0);
        Assert.True(fd >= 0, $"open: errno {Marshal.GetLastPInvokeError()}");
        foreach (var (offset, length) in stretches)
        {
            byte[] data = Enumerable.Repeat((byte)'x', length).ToArray();
            fixed (byte* p = data)
                Assert.Equal(length, (long)RandomOps.Native.pwrite(fd, p, length, offset));
        }
        if (truncateTo is { } size)
            Assert.Equal(0, RandomOps.Native.ftruncate(fd, size));
        Assert.Equal(0, RandomOps.Native.close(fd));
    }

    private int Versions() =>
        System.Text.Json.JsonDocument.Parse(Pk.Ok(_node.Run("log", Secret, "--json")).Stdout).RootElement.GetArrayLength();

    private byte[] StoredValue()
    {
        PkResult get = _node.Run("get", Secret);
        return get.ExitCode == 0 ? get.Stdout : [];
    }

    private static void AssertSame(RandomOps run, byte[] expected, byte[] actual, string what)
    {
        long at = RandomOps.FirstDifference(expected, actual);
        Assert.True(at < 0, run.Report($"{what}: {actual.Length} bytes, tmpfs {expected.Length}; first differing byte at offset {at}"));
    }

    public void Dispose()
    {
        try { Directory.Delete(_tmpfs, recursive: true); }
        catch (IOException) { }
        _node.Dispose();
    }
}

/// <summary>
/// The random sequence: each operation is done to the mount's descriptor and the tmpfs one,
/// and their results compared. Drawing from the random source never depends on the mount, so
/// one seed is one sequence in every mode (an operation a mode cannot do is drawn and skipped).
/// </summary>
internal sealed unsafe class RandomOps(Random random, string mountPath, string referencePath, int seed, string mode, Func<byte[]> storedValue, bool pinVersions)
{
    private const long MaxSize = 3 << 20; // over 1 MiB: the kernel writes such files back in parts
    private const int PageSize = 4096;
    private const long OverOneMiB = (1 << 20) + 1;

    private readonly List<string> _log = [];
    private readonly Dictionary<string, int> _counts = [];
    private readonly Dictionary<string, TimeSpan> _times = [];
    private readonly Stopwatch _clock = new();
    private string? _kind;
    private readonly List<(TimeSpan Took, string Operation)> _slowest = [];
    private int _mountFd = -1, _referenceFd = -1;
    private int _index, _operations, _fsyncs;
    private bool _sharedMapsOnWriter, _writableMaps;
    // The sequence runs in phases, each with a size the file stays under: mostly small ones, as
    // every save stores a whole version (a 3 MiB file saved often makes a slow, huge keynode).
    private int _phase, _phaseLeft;
    private long _cap, _floor;

    public List<string> Notes { get; } = [];

    public void Run(bool create, int operations)
    {
        try
        {
            Sequence(create, operations);
        }
        finally
        {
            // After a failure too: an open descriptor keeps the mount busy, and its unmount
            // failing would hide the mismatch.
            if (_mountFd >= 0) Native.close(_mountFd);
            if (_referenceFd >= 0) Native.close(_referenceFd);
        }
    }

    private void Sequence(bool create, int operations)
    {
        _operations = operations;
        Open(create ? Native.O_CREAT : 0);
        ProbeMaps();
        for (_index = 0; _index < operations; _index++)
        {
            _clock.Restart();
            if (_phaseLeft-- == 0)
                NextPhase();
            else
                NextOperation();
            if (_kind is not null) _times[_kind] = _times.GetValueOrDefault(_kind) + _clock.Elapsed;
            if (_clock.Elapsed > TimeSpan.FromMilliseconds(50))
                lock (_log) _slowest.Add((_clock.Elapsed, _log[^1]));
            if (_index % 250 == 249)
                CompareWhole("periodic check");
        }
        CompareWhole("end of sequence");
        CloseBoth();
    }

    // Writes and reads dominate; what saves a version (reopen, fsync, a truncation or msync
    // of a written file) is rarer, as saves take most of the time.
    private void NextOperation()
    {
        int pick = random.Next(100);
        if (pick < 32) PWrite();
        else if (pick < 60) PRead();
        else if (pick < 66) FTruncate();
        else if (pick < 72) FStatSize();
        else if (pick < 75) Reopen();
        else if (pick < 77) FSync();
        else if (pick < 89) MapRead();
        else MapWrite();
    }

    /// <summary>A new size limit, and a truncation down to it when the file is longer.</summary>
    private void NextPhase()
    {
        // Every tenth phase is a large one, so every run has a few files over 1 MiB.
        bool large = _phase++ % 10 == 2;
        int bits = random.Next(12, 17); // up to 128 KiB
        _cap = large ? random.NextInt64(OverOneMiB, MaxSize + 1) : random.NextInt64((1L << bits) + 1, 2L << bits);
        // A large phase truncates only to over 1 MiB, so that it exercises the parts of a large
        // write-back (a truncation to less is what small phases do).
        _floor = large ? OverOneMiB : 0;
        _phaseLeft = large ? random.Next(30, 60) : random.Next(60, 150);
        long size = ReferenceSize();
        Log("phase", $"{(large ? "large" : "small")}, up to {_cap} bytes, {_phaseLeft} operations (size {size})");
        if (size > _cap)
            Truncate(random.NextInt64(_cap + 1));
    }

    /// <summary>A mount that opens writers direct_io (--pin-versions) refuses MAP_SHARED on them (ENODEV); find out once.</summary>
    private void ProbeMaps()
    {
        _sharedMapsOnWriter = Probe(Native.PROT_READ);
        _writableMaps = Probe(Native.PROT_READ | Native.PROT_WRITE);
        if (!_sharedMapsOnWriter)
            Notes.Add("MAP_SHARED PROT_READ on the read-write descriptor: ENODEV; mmap reads go through a read-only descriptor opened for each read");
        if (!_writableMaps)
            Notes.Add("MAP_SHARED PROT_READ|PROT_WRITE: ENODEV; mmap writes skipped in this mode");

        bool Probe(int prot)
        {
            nint map = Native.mmap(0, PageSize, prot, Native.MAP_SHARED, _mountFd, 0);
            int errno = Marshal.GetLastPInvokeError();
            if (map != Native.MAP_FAILED)
            {
                Native.munmap(map, PageSize);
                return true;
            }
            Check(errno == Native.ENODEV, $"mmap probe (prot {prot}) failed with errno {errno}, not ENODEV");
            return false;
        }
    }

    private void PWrite()
    {
        long size = ReferenceSize();
        long offset = Offset(size, _cap, pastEnd: true);
        int length = (int)Math.Max(1, Math.Min(Length(_cap), _cap - offset));
        byte[] data = new byte[length];
        random.NextBytes(data);
        Log("pwrite", $"off={offset} len={length} (size {size})");
        fixed (byte* p = data)
        {
            nint address = (nint)p;
            var (mount, reference) = Both(fd => Native.pwrite(fd, (byte*)address, length, offset));
            CheckResults("pwrite", mount, reference);
        }
    }

    private void PRead()
    {
        long size = ReferenceSize();
        // Reads may go a little past the limit: past the end of the file.
        long offset = Offset(size, _cap + PageSize, pastEnd: true);
        int length = Length(_cap + PageSize);
        Log("pread", $"off={offset} len={length} (size {size})");
        byte[] fromMount = new byte[length], fromReference = new byte[length];
        (long Result, int Errno) mount, reference;
        fixed (byte* m = fromMount)
            mount = Result(Native.pread(_mountFd, m, length, offset));
        fixed (byte* r = fromReference)
            reference = Result(Native.pread(_referenceFd, r, length, offset));
        CheckResults("pread", mount, reference);
        CheckBytes("pread", fromReference.AsSpan(0, (int)reference.Result), fromMount.AsSpan(0, (int)mount.Result), offset);
    }

    private void FTruncate()
    {
        long size = ReferenceSize();
        Truncate(random.Next(10) switch
        {
            < 6 => random.NextInt64(_floor, _cap + 1),
            < 9 => Math.Clamp(size + random.Next(-5000, 5000), _floor, _cap), // just shorter or longer
            _ => Math.Clamp(Edge(_cap), _floor, _cap),
        });
    }

    private void Truncate(long target)
    {
        Log("ftruncate", $"{ReferenceSize()} -> {target}");
        var (mount, reference) = Both(fd => Native.ftruncate(fd, target));
        CheckResults("ftruncate", mount, reference);
    }

    private void FStatSize()
    {
        Log("fstat", "size");
        long mount = Size(_mountFd), reference = Size(_referenceFd);
        Check(mount == reference, $"fstat: size {mount} in the mount, {reference} in tmpfs");
    }

    private void Reopen()
    {
        bool truncate = random.Next(3) == 0;
        Log("reopen", $"close, open O_RDWR{(truncate ? "|O_TRUNC" : "")} (size {ReferenceSize()})");
        CloseBoth();
        Open(truncate ? Native.O_TRUNC : 0);
        CompareWhole("after reopen");
    }

    private void FSync()
    {
        Log("fsync", $"(size {ReferenceSize()})");
        var (mount, reference) = Both(fd => Native.fsync(fd));
        CheckResults("fsync", mount, reference);
        CompareWhole("after fsync");
        // fsync returning means saved (docs/mount.md, "Saving"), whatever waited for a quiet second.
        // Checked at every third fsync only: a pk get costs as much as a hundred operations.
        if (_fsyncs++ % 3 != 0) return;
        byte[] expected = ReadAll(_referenceFd, ReferenceSize());
        CheckBytes("pk get after fsync", expected, storedValue(), 0);
    }

    /// <summary>Reads a stretch of the file through MAP_SHARED PROT_READ maps of both files.</summary>
    private void MapRead()
    {
        long size = SameSize("mmap read");
        var (offset, length) = RangeWithin(size);
        bool ownDescriptor = random.Next(3) == 0 || !_sharedMapsOnWriter;
        if (length == 0)
        {
            Log("mmap-read-skipped", "an empty file has nothing to map");
            return;
        }
        Log("mmap-read", $"off={offset} len={length} (size {size}){(ownDescriptor ? " through a new O_RDONLY descriptor" : "")}");
        byte[] fromMount = ownDescriptor ? MapAndCopyFresh(mountPath, offset, length) : MapAndCopy(_mountFd, offset, length);
        byte[] fromReference = ownDescriptor ? MapAndCopyFresh(referencePath, offset, length) : MapAndCopy(_referenceFd, offset, length);
        CheckBytes("mmap read", fromReference, fromMount, offset);
    }

    private byte[] MapAndCopyFresh(string path, long offset, int length)
    {
        int fd = Native.open(path, Native.O_RDONLY | Native.O_CLOEXEC, 0);
        Check(fd >= 0, $"open O_RDONLY {path} for mmap: errno {Marshal.GetLastPInvokeError()}");
        try { return MapAndCopy(fd, offset, length); }
        finally { Native.close(fd); }
    }

    private byte[] MapAndCopy(int fd, long offset, int length)
    {
        long start = offset / PageSize * PageSize;
        nint span = (nint)(offset + length - start);
        nint map = Native.mmap(0, span, Native.PROT_READ, Native.MAP_SHARED, fd, start);
        Check(map != Native.MAP_FAILED, $"mmap PROT_READ failed: errno {Marshal.GetLastPInvokeError()}");
        try { return new ReadOnlySpan<byte>((byte*)map + (offset - start), length).ToArray(); }
        finally { Native.munmap(map, span); }
    }

    /// <summary>Writes a stretch through MAP_SHARED PROT_READ|PROT_WRITE maps of both files, then maybe msync, then munmap.</summary>
    private void MapWrite()
    {
        long size = SameSize("mmap write");
        var (offset, length) = RangeWithin(size);
        byte[] data = new byte[length];
        random.NextBytes(data);
        int sync = random.Next(3) switch { 0 => Native.MS_SYNC, 1 => Native.MS_ASYNC, _ => 0 };
        string syncName = sync switch { Native.MS_SYNC => "MS_SYNC", Native.MS_ASYNC => "MS_ASYNC", _ => "no msync" };
        if (!_writableMaps || length == 0)
        {
            Log("mmap-write-skipped", $"off={offset} len={length}: skipped ({(length == 0 ? "an empty file" : "ENODEV in this mode")})");
            return;
        }
        Log("mmap-write", $"off={offset} len={length} (size {size}), {syncName}, munmap");
        long start = offset / PageSize * PageSize;
        nint span = (nint)(offset + length - start);
        var (mount, reference) = Both(fd =>
        {
            nint map = Native.mmap(0, span, Native.PROT_READ | Native.PROT_WRITE, Native.MAP_SHARED, fd, start);
            Check(map != Native.MAP_FAILED, $"mmap PROT_READ|PROT_WRITE failed: errno {Marshal.GetLastPInvokeError()}");
            data.CopyTo(new Span<byte>((byte*)map + (offset - start), length));
            int synced = sync == 0 ? 0 : Native.msync(map, span, sync);
            int errno = Marshal.GetLastPInvokeError();
            Native.munmap(map, span);
            Marshal.SetLastPInvokeError(errno);
            return synced;
        });
        CheckResults("msync", mount, reference);
    }

    private void Open(int extraFlags)
    {
        int flags = Native.O_RDWR | Native.O_CLOEXEC | extraFlags;
        _mountFd = Native.open(mountPath, flags, 0x180 /* 0600 */);
        Check(_mountFd >= 0, $"open {mountPath}: errno {Marshal.GetLastPInvokeError()}");
        _referenceFd = Native.open(referencePath, flags, 0x180);
        Check(_referenceFd >= 0, $"open {referencePath}: errno {Marshal.GetLastPInvokeError()}");
    }

    private void CloseBoth()
    {
        var (mount, reference) = Both(fd => Native.close(fd));
        _mountFd = _referenceFd = -1;
        CheckResults("close", mount, reference);
    }

    /// <summary>The whole file, read through both descriptors: the same size, the same bytes.</summary>
    private void CompareWhole(string when)
    {
        long size = SameSize(when);
        byte[] fromMount = ReadAll(_mountFd, size), fromReference = ReadAll(_referenceFd, size);
        CheckBytes(when, fromReference, fromMount, 0);
    }

    private byte[] ReadAll(int fd, long size)
    {
        byte[] buffer = new byte[size + 1]; // one byte more: a file longer than its size would show
        long done = 0;
        fixed (byte* p = buffer)
            while (done < buffer.Length)
            {
                long got = (long)Native.pread(fd, p + done, (nint)(buffer.Length - done), done);
                Check(got >= 0, $"pread of the whole file failed: errno {Marshal.GetLastPInvokeError()}");
                if (got == 0) break;
                done += got;
            }
        return buffer[..(int)done];
    }

    private long SameSize(string when)
    {
        long mount = Size(_mountFd), reference = Size(_referenceFd);
        Check(mount == reference, $"{when}: size {mount} in the mount, {reference} in tmpfs");
        return reference;
    }

    private long ReferenceSize() => Size(_referenceFd);

    private long Size(int fd)
    {
        byte* stat = stackalloc byte[256];
        Check(Native.fstat(fd, stat) == 0, $"fstat: errno {Marshal.GetLastPInvokeError()}");
        return *(long*)(stat + Native.StatSizeOffset);
    }

    /// <summary>An offset below <paramref name="limit"/>: mostly inside the file, often at a page, 128 KiB or 1 MiB edge, sometimes past its end (a hole).</summary>
    private long Offset(long size, long limit, bool pastEnd)
    {
        long offset = random.Next(10) switch
        {
            < 5 => size == 0 ? 0 : random.NextInt64(size),
            < 8 => Edge(limit) + random.Next(-2, 3),
            _ => pastEnd ? size + random.NextInt64(300 << 10) : random.NextInt64(limit),
        };
        return Math.Clamp(offset, 0, limit - 1);
    }

    private long Edge(long limit)
    {
        long unit = random.Next(3) switch { 0 => PageSize, 1 => 128 << 10, _ => 1 << 20 };
        return unit * random.NextInt64(limit / unit + 1);
    }

    /// <summary>Mostly short, sometimes a page or two, rarely up to <paramref name="limit"/> (over a megabyte in a large phase).</summary>
    private int Length(long limit) => random.Next(10) switch
    {
        < 4 => random.Next(1, 17),
        < 7 => random.Next(1, 2 * PageSize + 2),
        < 9 => random.Next(1, 128 << 10),
        _ => (int)random.NextInt64(1, limit + 1),
    };

    /// <summary>A stretch inside the file (a map must not touch a page past the end: SIGBUS).</summary>
    private (long Offset, int Length) RangeWithin(long size)
    {
        long offset = Offset(size, Math.Max(size, 1), pastEnd: false);
        int length = (int)Math.Min(Length(size), size - offset);
        return (offset, Math.Max(length, 0));
    }

    private ((long, int) Mount, (long, int) Reference) Both(Func<int, long> call) =>
        (Result(call(_mountFd)), Result(call(_referenceFd)));

    /// <summary>A call's result with its errno when it failed; to be called right after the call.</summary>
    private static (long Result, int Errno) Result(long result) => (result, result < 0 ? Marshal.GetLastPInvokeError() : 0);

    private void CheckResults(string what, (long Result, int Errno) mount, (long Result, int Errno) reference) =>
        Check(mount == reference, $"{what}: the mount returned {mount.Result} (errno {mount.Errno}), tmpfs {reference.Result} (errno {reference.Errno})");

    private void CheckBytes(string what, ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, long fileOffset)
    {
        long at = FirstDifference(expected, actual);
        Check(at < 0, $"{what}: first differing byte at file offset {fileOffset + at} (mount {Byte(actual, at)}, tmpfs {Byte(expected, at)}; {actual.Length} bytes from the mount, {expected.Length} from tmpfs)");

        static string Byte(ReadOnlySpan<byte> bytes, long at) => at >= 0 && at < bytes.Length ? $"0x{bytes[(int)at]:x2}" : "none";
    }

    /// <summary>The first offset where the two differ (a length difference counts), or -1.</summary>
    public static long FirstDifference(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual)
    {
        int common = expected.CommonPrefixLength(actual);
        return common == expected.Length && common == actual.Length ? -1 : common;
    }

    private void Log(string kind, string details)
    {
        lock (_log) _log.Add($"#{_index} {kind} {details}");
        _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
        _kind = kind;
    }

    private void Check(bool condition, string problem)
    {
        if (!condition) throw new Xunit.Sdk.XunitException(Report(problem));
    }

    public string Report(string problem)
    {
        string[] tail;
        lock (_log) tail = _log.TakeLast(30).ToArray();
        string when = _index < _operations ? $"operation #{_index}" : "after the sequence";
        return $"PK_FUZZ_SEED={seed} ({mode}), {when}: {problem}\nlast operations:\n  {string.Join("\n  ", tail)}";
    }

    public string[] FullLog()
    {
        lock (_log) return [.. _log];
    }

    public IEnumerable<string> Slowest(int count) =>
        _slowest.OrderByDescending(s => s.Took).Take(count).Select(s => $"{s.Took.TotalMilliseconds:F0} ms: {s.Operation}");

    public string Summary() => string.Join(", ", _counts.OrderBy(c => c.Key).Select(c => $"{c.Value} {c.Key} ({_times.GetValueOrDefault(c.Key).TotalSeconds:F1} s)"));

    internal static class Native
    {
        public const int O_RDONLY = 0, O_RDWR = 2, O_CREAT = 0x40, O_TRUNC = 0x200, O_CLOEXEC = 0x80000;
        public const int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
        public const int MS_ASYNC = 1, MS_SYNC = 4;
        public const int ENODEV = 19;
        public const int StatSizeOffset = 48; // st_size in struct stat on x86_64 and arm64 alike
        public static readonly nint MAP_FAILED = -1;

        [DllImport("libc", SetLastError = true)] public static extern int open(string path, int flags, int mode);
        [DllImport("libc", SetLastError = true)] public static extern int close(int fd);
        [DllImport("libc", SetLastError = true)] public static extern nint pread(int fd, byte* buffer, nint count, long offset);
        [DllImport("libc", SetLastError = true)] public static extern nint pwrite(int fd, byte* buffer, nint count, long offset);
        [DllImport("libc", SetLastError = true)] public static extern int ftruncate(int fd, long length);
        [DllImport("libc", SetLastError = true)] public static extern int fsync(int fd);
        [DllImport("libc", SetLastError = true)] public static extern int fstat(int fd, byte* stat);
        [DllImport("libc", SetLastError = true)] public static extern nint mmap(nint address, nint length, int prot, int flags, int fd, long offset);
        [DllImport("libc", SetLastError = true)] public static extern int munmap(nint address, nint length);
        [DllImport("libc", SetLastError = true)] public static extern int msync(nint address, nint length, int flags);
    }
}
