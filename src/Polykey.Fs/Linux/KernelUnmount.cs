using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Polykey.Fs.Linux.Native;

namespace Polykey.Fs.Linux;

/// <summary>Detaches a mount from the namespace; the kernel drops the connection once no process uses it.</summary>
internal static unsafe class KernelUnmount
{
    private static readonly TimeSpan HelperTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A lazy unmount through fusermount3 (the setuid helper, so it works unprivileged too),
    /// or umount2 when the helper is missing. Failures are ignored: the caller watches the
    /// loop end, which is the real signal that the connection is gone.
    /// </summary>
    public static void Detach(string mountPoint)
    {
        try
        {
            var start = new ProcessStartInfo("fusermount3")
            {
                UseShellExecute = false,
                // Process.Start resolves a program's path from the current directory, which may be
                // gone by now (a removed test directory): that must not leave a dead mount behind.
                WorkingDirectory = "/",
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[] { "-u", "-z", "-q", mountPoint })
                start.ArgumentList.Add(argument);
            using var helper = Process.Start(start);
            if (helper is null)
                return;
            _ = helper.StandardOutput.ReadToEndAsync();
            _ = helper.StandardError.ReadToEndAsync();
            if (!helper.WaitForExit(HelperTimeout))
                helper.Kill();
        }
        catch (Win32Exception)
        {
            var path = NativeText.Alloc(mountPoint);
            try
            {
                LibC.umount2(path, LibC.MNT_DETACH);
            }
            finally
            {
                NativeMemory.Free(path);
            }
        }
    }
}
