namespace Polykey.Core;

/// <summary>Per-user files pk keeps beside a keynode (pins, caches): mode 0600, replaced whole by rename.</summary>
public static class PrivateFile
{
    /// <summary>
    /// Writes <paramref name="content"/> to a temporary file in the same directory and renames it
    /// over <paramref name="path"/>, so a reader sees the old file or the new one, never a mix.
    /// False when the directory is not writable: such files only save time or protect across opens.
    /// </summary>
    public static bool TryReplace(string path, ReadOnlySpan<byte> content, bool durable = false)
    {
        // Unique per process: two pk processes may save at once, and the last rename wins whole.
        string temporary = $"{path}.{Environment.ProcessId}.new";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(content);
                if (durable) stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temporary); } catch (Exception f) when (f is IOException or UnauthorizedAccessException) { }
            return false;
        }
    }
}
