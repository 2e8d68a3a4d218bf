using Polykey.Core.Native;

namespace Polykey.Core;

/// <summary>Keeps decrypted memory out of core dumps and away from ptrace by other users.</summary>
public static class ProcessHardening
{
    public static void Apply()
    {
        if (!OperatingSystem.IsLinux()) return;
        LibC.prctl(LibC.PR_SET_DUMPABLE, 0, 0, 0, 0);
        var none = new LibC.RLimit { Current = 0, Max = 0 };
        LibC.setrlimit(LibC.RLIMIT_CORE, none);
    }
}
