namespace Polykey.Core.Tests;

/// <summary>Offsets and lengths are 64-bit end to end: a keynode past 4 GiB opens, verifies and takes writes.</summary>
public sealed class LargeKeynodeTests : IDisposable
{
    private readonly TestFiles _files = new();

    [Fact]
    public void KeynodePast4GiB_Opens_Verifies_AndTakesWrites()
    {
        string path;
        using (Keynode node = _files.Create())
        {
            node.Set("before", "small"u8);
            path = node.Path;
        }
        RawKeynode.AppendZeros(path, "polykey/padding", (4L << 30) + (64L << 20));
        using (Keynode node = Keynode.Open(path, TestFiles.OwnerCredential))
        {
            Assert.Equal("small"u8.ToArray(), node.Get("before").Span.ToArray());
            node.Set("after", "written past 4 GiB"u8);
            Assert.True(node.Verify().Ok, string.Join("; ", node.Verify().Problems));
        }
        Assert.True(new FileInfo(path).Length > 4L << 30);
        using Keynode reopened = Keynode.Open(path, TestFiles.OwnerCredential);
        Assert.Equal("written past 4 GiB"u8.ToArray(), reopened.Get("after").Span.ToArray());
        Assert.Equal(["after", "before"], reopened.List().Select(s => s.Path));
        Assert.True(reopened.Verify().Ok);
    }

    public void Dispose() => _files.Dispose();
}
