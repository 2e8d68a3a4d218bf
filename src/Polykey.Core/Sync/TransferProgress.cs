namespace Polykey.Core.Sync;

/// <summary>How far a push or pull is: a phase, and histories done of how many (for a progress bar).</summary>
public readonly record struct TransferProgress(string Phase, int Done, int Total);
