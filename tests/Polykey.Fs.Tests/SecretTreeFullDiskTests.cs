using System.Security.Cryptography;
using Polykey.Core;
using Polykey.Core.Crypto;

namespace Polykey.Fs.Tests;

/// <summary>
/// A save after the quiet time, which no close waits for, finds the disk full: the bytes stay
/// in memory and are tried again, and the failure is reported once (the mount prints it).
/// Needs root for the small tmpfs, as CI is.
/// </summary>
public sealed class SecretTreeFullDiskTests : IDisposable
{
    private readonly string _disk = Directory.CreateTempSubdirectory("pk-full-").FullName;
    private readonly bool _mounted;

    public SecretTreeFullDiskTests()
    {
        _mounted = Environment.UserName == "root" && Shell.Run($"mount -t tmpfs -o size=1m tmpfs '{_disk}'", "/").ExitCode == 0;
    }

    [Fact]
    public void AQuietTimeSaveThatFindsTheDiskFull_IsReportedOnce_KeptAndSavedOnceThereIsRoom()
    {
        if (!_mounted)
        {
            Assert.NotEqual("root", Environment.UserName); // only a non-root developer may skip this
            return;
        }
        using Keynode keynode = Keynode.Create(Path.Combine(_disk, "n.keynode"), "full-disk", new Credential.KeyFile(SecretIdentity.Generate("full"), "test"));
        keynode.Set("app/config", "color=red\n"u8);
        using (var tree = new SecretTree(keynode, readOnly: false))
        {
            var reported = new List<string>();
            tree.SaveFailed += line => { lock (reported) reported.Add(line); };
            string filler = Path.Combine(_disk, "filler");
            File.WriteAllBytes(filler, new byte[(1 << 20) - new FileInfo(keynode.Path).Length - 8192]);

            ulong config = tree.Lookup(IFileTree.RootNode, "app").Node;
            config = tree.Lookup(config, "config").Node;
            byte[] value = RandomNumberGenerator.GetBytes(64 * 1024); // incompressible: no room for it
            tree.WriteNode(config, 0, value, mayContinue: true); // a part of a larger write-back: saved after the quiet time
            Assert.True(Eventually(() => Count(reported) == 1), "the failed save was not reported");
            Thread.Sleep(2500); // tried again every second, reported once
            Assert.Equal(1, Count(reported));
            Assert.StartsWith("app/config: written bytes not saved yet: ", reported[0]);
            Assert.Contains("no space", reported[0]);
            Assert.EndsWith("; kept in memory and tried again every second", reported[0]);
            Assert.Equal("color=red\n"u8.ToArray(), keynode.Get("app/config").Span.ToArray());
            var shown = new byte[value.Length + 1];
            Assert.Equal(value, shown.AsSpan(0, tree.ReadNode(config, 0, shown)).ToArray()); // the mount still shows them
            // The failed append's length is nobody's: a watcher must not take another writer's change of that length for it.
            tree.Refresh();
            long length = new FileInfo(keynode.Path).Length;
            for (long other = length + 512; other <= length + value.Length + 16_384; other += 512)
                Assert.True(tree.MayHaveNews(other), $"a keynode of {other} bytes taken for the mount's own");
            Assert.False(tree.MayHaveNews(length));

            File.Delete(filler);
            Assert.True(Eventually(() => { keynode.Refresh(); return keynode.Get("app/config").Span.SequenceEqual(value); }), "never saved once there was room");
            Assert.Equal(2, keynode.Log("app/config").Count);
        }
    }

    private static int Count(List<string> lines)
    {
        lock (lines) return lines.Count;
    }

    private static bool Eventually(Func<bool> condition)
    {
        for (int i = 0; i < 200 && !condition(); i++) Thread.Sleep(50);
        return condition();
    }

    public void Dispose()
    {
        if (_mounted) Shell.Run($"umount '{_disk}' || umount -l '{_disk}'", "/");
        Directory.Delete(_disk, recursive: true);
    }
}
