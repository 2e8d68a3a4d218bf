using System.Diagnostics;

namespace Polykey.Fs.Tests.Linux;

/// <summary>
/// The kernel caches pages (keep_cache), attributes and names for an hour; the tree's
/// Changed event is what makes changes made behind the mount visible.
/// </summary>
public class InvalidationTests
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(1);

    private static bool Eventually(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Within)
        {
            if (condition())
                return true;
            Thread.Sleep(25);
        }
        return condition();
    }

    [Fact]
    public void ContentChangedBehind_IsCachedUntilChangedIsRaised_ThenVisibleWithinOneSecond()
    {
        using var mount = new TestMount();
        var node = mount.Tree.Put("f", "version-1");
        Assert.Equal("version-1", mount.Ok("cat f"));
        // Pages read from the daemon mark atime stale, so this second cat revalidates the
        // attributes once; from now on everything is served from the kernel's caches.
        Assert.Equal("version-1", mount.Ok("cat f"));

        mount.Tree.Put("f", "version-2"); // same length, no event
        Assert.Equal("version-1", mount.Ok("cat f")); // proves the page cache is in use

        mount.Tree.RaiseChanged(new TreeChange(node));
        Assert.True(Eventually(() => mount.Ok("cat f") == "version-2"), "new bytes not visible after Changed");

        mount.Tree.Put("f", "version-3 is longer");
        mount.Tree.RaiseChanged(new TreeChange(node));
        Assert.True(Eventually(() => mount.Ok("cat f") == "version-3 is longer"), "new size not visible after Changed");
        Assert.Equal("19\n", mount.Ok("stat -c %s f"));
    }

    [Fact]
    public void NameChangedBehind_IsCachedUntilChangedIsRaised_ThenVisibleWithinOneSecond()
    {
        using var mount = new TestMount();
        mount.Tree.Put("a", "moved");
        Assert.Equal("moved", mount.Ok("cat a"));

        mount.Tree.MoveBehind("a", "b");
        Assert.Equal(0, mount.Run("stat a").ExitCode); // the kernel still trusts its cached name

        mount.Tree.RaiseChanged(new TreeChange(IFileTree.RootNode, "a"));
        mount.Tree.RaiseChanged(new TreeChange(IFileTree.RootNode, "b"));
        Assert.True(Eventually(() => mount.Run("cat a").ExitCode != 0), "old name still visible after Changed");
        Assert.Equal("moved", mount.Ok("cat b"));
        Assert.Equal("b\n", mount.Ok("ls"));
    }

    [Fact]
    public void NewFileBehind_ListedAfterDirectoryChanged()
    {
        using var mount = new TestMount();
        mount.Tree.Put("d/one", "1");
        Assert.Equal("one\n", mount.Ok("ls d"));
        var dir = mount.Tree.NodeOf("d")!.Value;
        mount.Tree.Put("d/two", "2");
        mount.Tree.RaiseChanged(new TreeChange(dir, "two"));
        Assert.True(Eventually(() => mount.Ok("ls d") == "one\ntwo\n"));
        Assert.Equal("2", mount.Ok("cat d/two"));
    }

    [Fact]
    public void ChangedStorm_ForKnownAndUnknownNodes_LeavesTheMountWorking()
    {
        using var mount = new TestMount();
        var node = mount.Tree.Put("f", "x");
        mount.Ok("cat f");
        Parallel.For(0, 2000, i => mount.Tree.RaiseChanged(new TreeChange(i % 2 == 0 ? node : 100_000UL + (ulong)i, i % 3 == 0 ? "nope" : null)));
        Assert.Equal("x", mount.Ok("cat f"));
    }
}
