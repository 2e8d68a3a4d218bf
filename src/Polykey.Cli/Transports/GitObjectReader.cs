using System.Diagnostics;
using System.Text;
using Polykey.Core;

namespace Polykey.Cli.Transports;

/// <summary>
/// Reads objects from a local git repository through one long-lived `git cat-file --batch`,
/// checking each header's size against a bound before a byte of content is read: the
/// repository holds what a hostile relay sent.
/// </summary>
internal sealed class GitObjectReader : IDisposable
{
    private readonly string _gitDir;
    private Process? _process;

    public GitObjectReader(string gitDir)
    {
        _gitDir = gitDir;
    }

    /// <summary>
    /// The object <paramref name="name"/> names (a hex id, or rev:path), or null when the repository
    /// lacks it. An object larger than <paramref name="maxBytes"/> is an error.
    /// </summary>
    public (string Type, byte[] Content)? Read(string name, long maxBytes)
    {
        if (name.Contains('\n') || name.Contains('\r')) throw new ArgumentException("an object name holds no newline", nameof(name));
        Process process = _process ??= StartBatch();
        try
        {
            process.StandardInput.BaseStream.Write(Encoding.UTF8.GetBytes(name + "\n"));
            process.StandardInput.BaseStream.Flush();
            Stream output = process.StandardOutput.BaseStream;
            string header = ReadLine(output);
            string[] parts = header.Split(' ');
            if (parts.Length == 2 && parts[1] is "missing" or "ambiguous") return null;
            if (parts.Length != 3 || !long.TryParse(parts[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long size))
                throw PolykeyException.Failed($"git cat-file answered '{Printable(header)}' for object {name}");
            if (size > maxBytes)
            {
                // The rest of its content is still in the pipe: this reader is spent.
                Stop();
                throw PolykeyException.Failed($"the relay's object {name} holds {size} bytes, more than the {maxBytes} a {parts[1]} may");
            }
            byte[] content = new byte[size];
            output.ReadExactly(content);
            if (output.ReadByte() != '\n') throw PolykeyException.Failed($"git cat-file did not end object {name} as expected");
            return (parts[1], content);
        }
        catch (Exception e) when (e is IOException or EndOfStreamException)
        {
            Stop();
            throw PolykeyException.Failed($"git cat-file stopped while reading object {name}", null, e);
        }
    }

    private Process StartBatch()
    {
        Process process = GitProcess.Start(GitProcess.StartInfo(_gitDir, ["cat-file", "--batch"]));
        process.ErrorDataReceived += (_, _) => { }; // drained, so a chatty git never blocks on a full pipe
        process.BeginErrorReadLine();
        return process;
    }

    // One header line, bounded: a line longer than any header git writes is not one.
    private static string ReadLine(Stream stream)
    {
        var line = new List<byte>(64);
        while (true)
        {
            int b = stream.ReadByte();
            if (b < 0) throw new EndOfStreamException();
            if (b == '\n') return Encoding.ASCII.GetString(line.ToArray());
            if (line.Count >= 256) throw PolykeyException.Failed("git cat-file wrote a header longer than any object's");
            line.Add((byte)b);
        }
    }

    private static string Printable(string text) => new(text.Select(c => char.IsControl(c) ? '?' : c).Take(100).ToArray());

    private void Stop()
    {
        if (_process is null) return;
        GitProcess.Kill(_process);
        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        if (_process is null) return;
        try
        {
            _process.StandardInput.Close(); // cat-file ends at end of input
            if (!_process.WaitForExit(2000)) GitProcess.Kill(_process);
        }
        catch (IOException)
        {
            GitProcess.Kill(_process);
        }
        _process.Dispose();
        _process = null;
    }
}
