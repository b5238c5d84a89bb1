using Microsoft.Extensions.Logging;

namespace Parallelize.Telemetry;

/// <summary>The pool's log messages, with stable event ids. Nothing here is on the path of a call that succeeds.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "ExecutorRestarted", Level = LogLevel.Warning,
        Message = "Pool {PoolName}: executor {ExecutorIndex} ({ExecutorLocation}) failed and is restarted (restart {RestartCount} of the pool)")]
    public static partial void ExecutorRestarted(ILogger logger, Exception exception, string poolName, int executorIndex, string executorLocation, long restartCount);

    [LoggerMessage(EventId = 2, EventName = "ExecutorRetired", Level = LogLevel.Error,
        Message = "Pool {PoolName}: executor {ExecutorIndex} ({ExecutorLocation}) is retired by the restart policy; {LiveExecutors} executor(s) left")]
    public static partial void ExecutorRetired(ILogger logger, Exception? exception, string poolName, int executorIndex, string executorLocation, int liveExecutors);

    [LoggerMessage(EventId = 3, EventName = "CallFailed", Level = LogLevel.Warning,
        Message = "Pool {PoolName}: call {CallNumber} used up its {Attempts} attempt(s) and is in Failures")]
    public static partial void CallFailed(ILogger logger, Exception? exception, string poolName, long callNumber, int attempts);

    [LoggerMessage(EventId = 4, EventName = "PoolFaulted", Level = LogLevel.Error,
        Message = "Pool {PoolName}: every executor ({ExecutorCount}) is retired; the pool is faulted and runs no more calls")]
    public static partial void PoolFaulted(ILogger logger, Exception exception, string poolName, int executorCount);

    [LoggerMessage(EventId = 5, EventName = "PoolStopped", Level = LogLevel.Information,
        Message = "Pool {PoolName} stopped after {ElapsedMs:0} ms: {Accepted} calls, {Succeeded} results, {Failed} failures, {Aborted} aborted, {Restarts} restarts")]
    public static partial void PoolStopped(ILogger logger, string poolName, double elapsedMs, long accepted, long succeeded, long failed, long aborted, long restarts);

    [LoggerMessage(EventId = 6, EventName = "ProgressHandlerFailed", Level = LogLevel.Warning,
        Message = "Pool {PoolName}: the progress handler threw; the report is dropped")]
    public static partial void ProgressHandlerFailed(ILogger logger, Exception exception, string poolName);

    [LoggerMessage(EventId = 7, EventName = "OutageStarted", Level = LogLevel.Warning,
        Message = "Pool {PoolName}: {Failures} of the last {Window} calls failed on {Executors} executor(s): an outage of what they call; dispatch is paused and probed, and {Refunded} input(s) got their attempt back")]
    public static partial void OutageStarted(ILogger logger, string poolName, int failures, int window, int executors, int refunded);

    [LoggerMessage(EventId = 8, EventName = "OutageEnded", Level = LogLevel.Information,
        Message = "Pool {PoolName}: a call succeeded after an outage of {DurationMs:0} ms; dispatch resumed")]
    public static partial void OutageEnded(ILogger logger, string poolName, double durationMs);

    [LoggerMessage(EventId = 9, EventName = "OutageGaveUp", Level = LogLevel.Error,
        Message = "Pool {PoolName}: the outage lasted {DurationMs:0} ms, longer than OutageOptions.MaxDuration; dispatch resumed and failures count again")]
    public static partial void OutageGaveUp(ILogger logger, string poolName, double durationMs);
}
