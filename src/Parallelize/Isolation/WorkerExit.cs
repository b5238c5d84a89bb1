namespace Parallelize.Isolation;

/// <summary>How a worker process ended: what <see cref="WorkerProcess.Lost"/> reports.</summary>
/// <param name="ProcessId">The process id; 0 if it never started.</param>
/// <param name="ExitCode">The exit code; <see langword="null"/> if it never started.</param>
/// <param name="Reason">Why it was lost.</param>
/// <param name="StandardErrorTail">The last bytes it wrote to standard error, as text.</param>
internal sealed record WorkerExit(int ProcessId, int? ExitCode, WorkerExitReason Reason, string StandardErrorTail)
{
    /// <summary>Gets the signal that killed it, decoded from the exit code.</summary>
    public int? Signal => ExitCode is { } code ? SignalNames.FromExitCode(code) : null;
}
