namespace Polykey.Fs.Linux;

/// <summary>A mount could not be set up (bad mount point, libfuse refused); nothing was served.</summary>
public sealed class FuseMountException(string message, Exception? inner = null) : IOException(message, inner);
