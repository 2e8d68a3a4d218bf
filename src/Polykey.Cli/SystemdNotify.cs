using System.Net.Sockets;
using System.Text;
using Polykey.Core;

namespace Polykey.Cli;

/// <summary>
/// The service manager's notification protocol (sd_notify): one datagram of KEY=VALUE lines
/// to the unix socket systemd names in $NOTIFY_SOCKET (a leading '@' means the abstract
/// namespace). With no such variable every call does nothing, so a command can always
/// report. A send that fails is one warning, never a failure: the mount serves on whether or
/// not anyone listens.
/// </summary>
internal sealed class SystemdNotify : IDisposable
{
    private const string SocketVariable = "NOTIFY_SOCKET";

    private readonly Socket? _socket;
    private readonly UnixDomainSocketEndPoint? _endPoint;
    private readonly string _address = "";
    private int _warned;

    private SystemdNotify(string? address)
    {
        if (address is not { Length: > 1 } || (address[0] != '/' && address[0] != '@')) return;
        _address = address;
        // .NET writes an abstract address with a leading NUL, as the kernel expects it.
        _endPoint = new UnixDomainSocketEndPoint(address[0] == '@' ? "\0" + address[1..] : address);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    /// <summary>
    /// Takes the socket from $NOTIFY_SOCKET and removes the variable, so that processes this
    /// one starts (an --on-change hook) cannot speak for it.
    /// </summary>
    public static SystemdNotify FromEnvironment()
    {
        string? address = Environment.GetEnvironmentVariable(SocketVariable);
        Environment.SetEnvironmentVariable(SocketVariable, null);
        return new SystemdNotify(address);
    }

    /// <summary>Drops $NOTIFY_SOCKET from a child's environment (a process that is not the one systemd watches).</summary>
    public static void Withhold(IDictionary<string, string?> environment) => environment.Remove(SocketVariable);

    /// <summary>A line for `systemctl status`.</summary>
    public void Status(string status) => Send($"STATUS={OneLine(status)}");

    /// <summary>Startup is complete: units ordered after this one may start now.</summary>
    public void Ready(string status) => Send($"READY=1\nSTATUS={OneLine(status)}");

    /// <summary>Shutdown has begun (so systemd does not take the exit that follows as a crash).</summary>
    public void Stopping(string status) => Send($"STOPPING=1\nSTATUS={OneLine(status)}");

    // A newline in a path must not start a line of its own (READY=1, say): control characters are escaped.
    private static string OneLine(string text) => SecretPath.Escape(text);

    private void Send(string message)
    {
        if (_socket is null) return;
        try
        {
            _socket.SendTo(Encoding.UTF8.GetBytes(message), _endPoint!);
        }
        catch (SocketException e)
        {
            if (Interlocked.Exchange(ref _warned, 1) == 0)
                Output.Warning($"cannot notify the service manager at {_address}: {e.Message}");
        }
        catch (ObjectDisposedException)
        {
            // A change reported while the command is already ending: nobody needs to hear of it.
        }
    }

    public void Dispose() => _socket?.Dispose();
}
