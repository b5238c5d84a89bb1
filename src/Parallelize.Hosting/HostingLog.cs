using Microsoft.Extensions.Logging;

namespace Parallelize.Hosting;

/// <summary>The hosting package's log messages; their event ids follow the core's (1 to 99).</summary>
internal static partial class HostingLog
{
    [LoggerMessage(EventId = 101, EventName = "AbortedInputsResumed", Level = LogLevel.Information,
        Message = "Pool {PoolName}: queued {Count} input(s) the last run saved")]
    public static partial void AbortedInputsResumed(ILogger logger, string poolName, int count);

    [LoggerMessage(EventId = 102, EventName = "ResumeInterrupted", Level = LogLevel.Warning,
        Message = "Pool {PoolName}: the start was abandoned with {Count} saved input(s) not queued; they are saved again when the host stops")]
    public static partial void ResumeInterrupted(ILogger logger, string poolName, int count);

    [LoggerMessage(EventId = 103, EventName = "HostStopping", Level = LogLevel.Information,
        Message = "Pool {PoolName}: the host is stopping; calls in flight get {FinishMs:0} ms to finish")]
    public static partial void HostStopping(ILogger logger, string poolName, double finishMs);

    [LoggerMessage(EventId = 104, EventName = "AbortedInputsSaved", Level = LogLevel.Information,
        Message = "Pool {PoolName}: saved {Count} aborted input(s) for the next run")]
    public static partial void AbortedInputsSaved(ILogger logger, string poolName, int count);

    [LoggerMessage(EventId = 105, EventName = "AbortedInputsNotKept", Level = LogLevel.Warning,
        Message = "Pool {PoolName}: the host's stop aborted {Count} input(s) and no IAbortedInputStore is registered, so nothing keeps them for the next run")]
    public static partial void AbortedInputsNotKept(ILogger logger, string poolName, int count);

    [LoggerMessage(EventId = 106, EventName = "AbortedInputsSaveFailed", Level = LogLevel.Error,
        Message = "Pool {PoolName}: saving {Count} aborted input(s) failed")]
    public static partial void AbortedInputsSaveFailed(ILogger logger, Exception exception, string poolName, int count);

    [LoggerMessage(EventId = 107, EventName = "ScopeDisposalFailed", Level = LogLevel.Warning,
        Message = "Disposing the dependency injection scope of an executor failed")]
    public static partial void ScopeDisposalFailed(ILogger logger, Exception exception);
}
