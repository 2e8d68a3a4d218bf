using Polykey.Fs.Linux.Native;

namespace Polykey.Fs.Linux;

/// <summary>Checks, before anything is mounted, that this machine can serve a mount with our binding.</summary>
internal static class FusePlatform
{
    public static void Check()
    {
        NativeLayout.Verify();
        if (!File.Exists("/dev/fuse"))
            throw new FuseMountException("/dev/fuse is missing: the fuse kernel module is not loaded (modprobe fuse), or a container does not pass the device in.");
        int version;
        try
        {
            version = LibFuse.fuse_version();
        }
        catch (DllNotFoundException e)
        {
            throw new FuseMountException("libfuse3 is not installed (Debian: apt-get install fuse3 libfuse3-3).", e);
        }
        if (version < LibFuse.MinimumVersion)
            throw new FuseMountException($"libfuse {version / 100}.{version % 100} is too old: 3.12 or later is needed.");
    }
}
