using System.Text;

namespace Polykey.Cli.Transports;

/// <summary>
/// Drains a child's stderr (so it never blocks on a full pipe) and keeps only its last few KiB:
/// enough to quote ssh's last line in an error, never more memory than that.
/// </summary>
internal sealed class StderrTail
{
    private const int Keep = 4096;
    private readonly byte[] _tail = new byte[Keep];
    private int _length;
    private readonly Task _draining;

    public StderrTail(Stream stderr)
    {
        _draining = Task.Run(() => Drain(stderr));
    }

    private void Drain(Stream stderr)
    {
        byte[] buffer = new byte[Keep];
        try
        {
            int read;
            while ((read = stderr.Read(buffer, 0, buffer.Length)) > 0)
                lock (_tail)
                {
                    int keepOld = Math.Min(_length, Keep - read);
                    Buffer.BlockCopy(_tail, _length - keepOld, _tail, 0, keepOld);
                    Buffer.BlockCopy(buffer, 0, _tail, keepOld, read);
                    _length = keepOld + read;
                }
        }
        catch (IOException)
        {
            // The child is gone; what arrived is kept.
        }
    }

    /// <summary>The last non-empty line written, once the stream ended (or after a short wait), cut to a readable length.</summary>
    public string? LastLine()
    {
        _draining.Wait(TimeSpan.FromSeconds(2));
        string text;
        lock (_tail) text = Encoding.UTF8.GetString(_tail, 0, _length);
        string? line = text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
        return line is null ? null : line.Length > 300 ? line[..300] + "…" : line;
    }
}
