using System.Text;
using Polykey.Core;
using Polykey.Core.Storage;

namespace Polykey.Cli.Transports;

/// <summary>
/// The local bare repository that mirrors one relay: ${XDG_CACHE_HOME:-~/.cache}/polykey/relays/
/// &lt;sha256 of the URL&gt;.git, private to this user (0700). It holds what the relay holds
/// (ciphertext, public metadata); deleting it costs one full fetch, nothing else.
/// </summary>
internal static class RelayCache
{
    private const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static string DirectoryFor(string url) =>
        Path.Combine(Session.CacheDirectory, "polykey", "relays", Convert.ToHexStringLower(Sha256(Encoding.UTF8.GetBytes(url))) + ".git");

    // BouncyCastle's digest, not .NET's: that one loads OpenSSL, ~7 ms of a pull that needs it for nothing else.
    private static byte[] Sha256(byte[] data)
    {
        var digest = new Org.BouncyCastle.Crypto.Digests.Sha256Digest();
        digest.BlockUpdate(data);
        byte[] hash = new byte[digest.GetDigestSize()];
        digest.DoFinal(hash);
        return hash;
    }

    /// <summary>The cache of a relay, made (git init --bare) the first time.</summary>
    public static string Prepare(string url)
    {
        string path = DirectoryFor(url);
        if (File.Exists(Path.Combine(path, "HEAD"))) return path;
        foreach (string dir in new[] { Path.Combine(Session.CacheDirectory, "polykey"), Path.GetDirectoryName(path)!, path })
            if (!Directory.Exists(dir)) Directory.CreateDirectory(dir, Private);
        GitResult result = GitProcess.Run(null, ["init", "--bare", "--quiet", path]);
        if (!result.Ok) throw PolykeyException.Failed($"cannot make the relay cache {path}: {result.Reason()}");
        return path;
    }

    /// <summary>The cache held by this process (flock on its pk.lock) until disposed.</summary>
    public sealed class Lease(FileStream file, FileLock held) : IDisposable
    {
        public void Dispose()
        {
            held.Dispose();
            file.Dispose();
        }
    }

    public static Lease Take(string cache)
    {
        var file = new FileStream(Path.Combine(cache, "pk.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);
        try
        {
            return new Lease(file, FileLock.Exclusive(file.SafeFileHandle));
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Bytes of the files directly in a directory (where a fetch writes the pack it receives).</summary>
    public static long Bytes(string directory)
    {
        if (!Directory.Exists(directory)) return 0;
        long total = 0;
        foreach (FileInfo file in new DirectoryInfo(directory).EnumerateFiles())
        {
            try { total += file.Length; }
            catch (IOException) { } // renamed or removed while counting
        }
        return total;
    }
}
