using System.Runtime.InteropServices;
using Polykey.Fs.Linux.Native;

namespace Polykey.Fs.Linux;

/// <summary>
/// Wakes the thread running fuse_session_loop_mt when the session must stop while
/// processes still use the mount. That thread sleeps in sem_wait, and only a signal
/// with a handler and without SA_RESTART makes sem_wait return (with SA_RESTART the kernel
/// silently restarts the futex wait). The loop then sees the exit flag and cancels its
/// workers. SIGURG is ignored by default and otherwise unused here.
/// </summary>
internal static unsafe class LoopWakeSignal
{
    private static readonly Lock Gate = new();
    private static PosixSignalRegistration? _registration;

    /// <summary>Installs the handler once per process: the runtime's own, minus SA_RESTART.</summary>
    public static void EnsureInstalled()
    {
        lock (Gate)
        {
            if (_registration is not null)
                return;
            // The registration makes the runtime install its native handler for SIGURG;
            // the managed callback only swallows the signal.
            _registration = PosixSignalRegistration.Create((PosixSignal)LibC.SIGURG, context => context.Cancel = true);
            SigAction action;
            if (LibC.sigaction(LibC.SIGURG, null, &action) != 0)
                throw new FuseMountException($"sigaction failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            if ((action.Flags & LibC.SA_RESTART) != 0)
            {
                action.Flags &= ~LibC.SA_RESTART;
                LibC.sigaction(LibC.SIGURG, &action, null);
            }
        }
    }

    public static void Send(nuint thread) => LibC.pthread_kill(thread, LibC.SIGURG);
}
