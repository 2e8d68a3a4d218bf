using Polykey.Fs.Linux;
using Polykey.Fs.Linux.Native;

namespace Polykey.Fs.Tests.Linux;

public class ErrnoTests
{
    [Theory]
    [InlineData(FsError.NotFound, 2)]
    [InlineData(FsError.Exists, 17)]
    [InlineData(FsError.NotDirectory, 20)]
    [InlineData(FsError.IsDirectory, 21)]
    [InlineData(FsError.NotEmpty, 39)]
    [InlineData(FsError.ReadOnly, 30)]
    [InlineData(FsError.AccessDenied, 13)]
    [InlineData(FsError.InvalidName, 22)]
    [InlineData(FsError.NameTooLong, 36)]
    [InlineData(FsError.BadHandle, 9)]
    [InlineData(FsError.NotSupported, 95)]
    [InlineData(FsError.NoSpace, 28)]
    [InlineData(FsError.IoError, 5)]
    [InlineData(FsError.TooBig, 27)]
    public void From_EachFsError_MapsToItsErrno(FsError error, int errno)
    {
        Assert.Equal(errno, Errno.From(error));
        Assert.Equal(errno, Errno.From(new FsException(error)));
    }

    [Fact]
    public void From_EveryFsErrorValue_IsMapped()
    {
        foreach (var error in Enum.GetValues<FsError>())
            Assert.True(Errno.From(error) > 0);
    }

    [Fact]
    public void From_AnyOtherException_IsEIO()
    {
        Assert.Equal(5, Errno.From(new InvalidOperationException()));
        Assert.Equal(5, Errno.From(new NullReferenceException()));
    }

    [Fact]
    public void Unsupported_IsEROFSOnReadOnlyTree()
    {
        Assert.Equal(Errno.EROFS, Errno.Unsupported(new MemoryTree(readOnly: true), Errno.EPERM));
        Assert.Equal(Errno.EPERM, Errno.Unsupported(new MemoryTree(), Errno.EPERM));
    }

    [Fact]
    public void NativeLayout_MatchesTheMeasuredX64Sizes()
    {
        NativeLayout.Verify();
    }
}
