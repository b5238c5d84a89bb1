using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Parallelize.Orleans.Client;

/// <summary>The log messages of a cluster pool's executors, with stable event ids; none is on the path of a call that succeeds.</summary>
internal static partial class ClusterLog
{
    [LoggerMessage(EventId = 101, EventName = "ExecutorPlaced", Level = LogLevel.Information,
        Message = "Pool {PoolName}: executor {Slot} (generation {Generation}) runs on silo {Node} ({SiloName}, process {ProcessId})")]
    public static partial void ExecutorPlaced(ILogger logger, string poolName, int slot, long generation, SiloAddress node, string siloName, int processId);

    [LoggerMessage(EventId = 102, EventName = "ExecutorStartFailed", Level = LogLevel.Warning,
        Message = "Pool {PoolName}: executor {Slot} (generation {Generation}) could not be created on silo {Node}")]
    public static partial void ExecutorStartFailed(ILogger logger, Exception exception, string poolName, int slot, long generation, SiloAddress node);

    [LoggerMessage(EventId = 103, EventName = "ExecutorLost", Level = LogLevel.Warning,
        Message = "Pool {PoolName}: executor {Slot} lost silo {Node} with {Calls} call(s) in flight ({Reason}); the pool queues them again without using their attempts and re-creates the executor elsewhere")]
    public static partial void ExecutorLost(ILogger logger, Exception? exception, string poolName, int slot, string node, int calls, string reason);

    [LoggerMessage(EventId = 104, EventName = "ExecutorMoved", Level = LogLevel.Information,
        Message = "Pool {PoolName}: executor {Slot} moved from silo {From} to silo {To} (generation {Generation})")]
    public static partial void ExecutorMoved(ILogger logger, string poolName, int slot, string from, string to, long generation);

    [LoggerMessage(EventId = 105, EventName = "ExecutorMoveFailed", Level = LogLevel.Warning,
        Message = "Pool {PoolName}: executor {Slot} could not move to silo {To}; it stays on silo {From}")]
    public static partial void ExecutorMoveFailed(ILogger logger, Exception exception, string poolName, int slot, string from, string to);

    [LoggerMessage(EventId = 106, EventName = "NodeJoined", Level = LogLevel.Information,
        Message = "Pool {PoolName}: silo {Node} joined the cluster")]
    public static partial void NodeJoined(ILogger logger, string poolName, SiloAddress node);

    [LoggerMessage(EventId = 107, EventName = "NodeLeft", Level = LogLevel.Warning,
        Message = "Pool {PoolName}: silo {Node} is no longer active in the cluster's membership")]
    public static partial void NodeLeft(ILogger logger, string poolName, SiloAddress node);

    [LoggerMessage(EventId = 108, EventName = "LateReplyDropped", Level = LogLevel.Information,
        Message = "Pool {PoolName}: a reply from silo {Node} (executor {Slot}) for call {CallId} came after the call was given up (lost or stopped); dropped")]
    public static partial void LateReplyDropped(ILogger logger, string poolName, string node, int slot, long callId);

    [LoggerMessage(EventId = 109, EventName = "MembershipRefreshFailed", Level = LogLevel.Warning,
        Message = "Pool {PoolName}: could not read the cluster's active silos; trying again")]
    public static partial void MembershipRefreshFailed(ILogger logger, Exception exception, string poolName);

    [LoggerMessage(EventId = 110, EventName = "ExecutorStopFailed", Level = LogLevel.Debug,
        Message = "Pool {PoolName}: executor {Slot} on silo {Node} did not stop cleanly")]
    public static partial void ExecutorStopFailed(ILogger logger, Exception exception, string poolName, int slot, string node);
}
