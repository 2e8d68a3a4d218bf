using Polykey.Core.Git;

namespace Polykey.Core;

/// <summary>
/// Commits already found signed by the owner, remembered outside the keynode
/// (<c>{cache}/polykey/{keynode id}.verified</c>, mode 0600), so an open checks only the
/// signatures it has not seen. Owner-signed commits are valid wherever they appear (their id
/// is a hash of their content), so the list is safe to share between copies of a keynode.
/// Whoever can write this file can make pk skip checks: it lives with the user's other
/// per-user state, which such a writer already controls (shell start-up files, say).
/// </summary>
internal sealed class VerifiedCommitCache(string? path)
{
    public static VerifiedCommitCache For(string? cacheDirectory, string keynodeId) =>
        new(cacheDirectory is null ? null : Path.Combine(cacheDirectory, "polykey", keynodeId + ".verified"));

    // Longer than any record (two 19-digit numbers and two 64-digit hashes), so each write covers the last.
    private const int ScanRecordLength = 256;

    private bool _directoryMade;

    // A long-lived handle (a mount) changes the keynode many times a second: what this cache
    // learns is written at most once per interval, and at Flush (the keynode's Dispose). Lost
    // in a crash, it costs the next open some hashing and signature checks, nothing more.
    private const long WriteIntervalMs = 1000;
    private long _lastWrite = -WriteIntervalMs; // due at once: TickCount64 counts from boot
    private Storage.ScanPoint? _unwrittenScanPoint;
    private readonly List<ObjectId> _unwrittenIds = new();

    private string? ScanPath => path is null ? null : Path.ChangeExtension(path, ".scan");

    private void MakeDirectory()
    {
        if (_directoryMade) return;
        Directory.CreateDirectory(Path.GetDirectoryName(path!)!);
        _directoryMade = true;
    }

    /// <summary>The last change end whose bytes were hashed and found whole (checked against the file before use).</summary>
    public Storage.ScanPoint? LoadScanPoint()
    {
        try
        {
            if (ScanPath is null || !File.Exists(ScanPath)) return null;
            string[] parts = File.ReadAllText(ScanPath).Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 4) return null; // an older record, without the layout digest: hash everything once
            return new Storage.ScanPoint(long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture),
                long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), Convert.FromHexString(parts[2]), Convert.FromHexString(parts[3]));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or OverflowException)
        {
            return null;
        }
    }

    public void SaveScanPoint(Storage.ScanPoint point)
    {
        if (ScanPath is null) return;
        _unwrittenScanPoint = point;
        WriteIfDue();
    }

    private void WriteIfDue()
    {
        if (Environment.TickCount64 - _lastWrite >= WriteIntervalMs) Flush();
    }

    /// <summary>Writes whatever was learnt since the last write.</summary>
    public void Flush()
    {
        _lastWrite = Environment.TickCount64;
        if (_unwrittenIds.Count > 0)
        {
            WriteIds(_unwrittenIds);
            _unwrittenIds.Clear();
        }
        if (_unwrittenScanPoint is { } point)
        {
            WriteScanPoint(point);
            _unwrittenScanPoint = null;
        }
    }

    private void WriteScanPoint(Storage.ScanPoint point)
    {
        if (ScanPath is null) return;
        try
        {
            MakeDirectory();
            // Overwritten in place at one fixed length, never truncated: a truncate-and-rewrite
            // makes ext4 write the file back at close.
            if (point.Layout is null) return;
            string line = $"{point.Offset} {point.Sequence} {Convert.ToHexStringLower(point.RecordHash)} {Convert.ToHexStringLower(point.Layout)}".PadRight(ScanRecordLength - 1) + "\n";
            var options = new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var stream = new FileStream(ScanPath, options);
            stream.Write(System.Text.Encoding.ASCII.GetBytes(line));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not remembering only costs time next open.
        }
    }

    /// <summary>How long the list is now: a reader that resumes from a snapshot needs only what was added after.</summary>
    public long Length
    {
        get
        {
            Flush(); // a snapshot that records this length reflects everything learnt before it
            try
            {
                return path is not null && File.Exists(path) ? new FileInfo(path).Length : 0;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return 0;
            }
        }
    }

    /// <summary>The commits listed from byte <paramref name="from"/> on (a line boundary; all of them from 0, or when the list is shorter).</summary>
    public IReadOnlyCollection<ObjectId> Load(long from = 0)
    {
        var ids = new List<ObjectId>();
        if (path is null || !File.Exists(path)) return ids;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            // A list that shrank was replaced: none of it can be told apart, so all of it is read.
            if (from > 0 && from <= stream.Length && from % 41 == 0) stream.Position = from;
            using var reader = new StreamReader(stream);
            while (reader.ReadLine() is { } line)
                if (ObjectId.TryParse(line, out ObjectId id)) ids.Add(id);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A cache that cannot be read only costs time.
        }
        return ids;
    }

    /// <summary>Adds commits found signed by the owner; they reach the file with the next scan point or at <see cref="Flush"/>.</summary>
    public void Append(IReadOnlyCollection<ObjectId> ids)
    {
        if (path is null || ids.Count == 0) return;
        _unwrittenIds.AddRange(ids); // written with the next scan point, or at Flush
    }

    private void WriteIds(IReadOnlyCollection<ObjectId> ids)
    {
        if (path is null) return;
        try
        {
            MakeDirectory();
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using var stream = new FileStream(path, options);
            using var writer = new StreamWriter(stream);
            foreach (ObjectId id in ids) writer.Write(id.Hex + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not remembering only costs time next open.
        }
    }
}
