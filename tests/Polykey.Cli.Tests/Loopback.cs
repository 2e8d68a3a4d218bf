using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Polykey.Cli.Tests;

/// <summary>Ports on 127.0.0.1 for the servers tests start (sshd, git daemon).</summary>
internal static class Loopback
{
    /// <summary>A port nothing listens on now.</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Waits until <paramref name="server"/> accepts connections on <paramref name="port"/>; fails if it exits or takes 15 s.</summary>
    public static void WaitUntilListening(Process server, int port, string name)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(server.HasExited, $"{name} exited at start");
            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }
        Assert.Fail($"{name} did not listen on port {port}");
    }
}
