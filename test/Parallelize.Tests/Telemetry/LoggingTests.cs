using Microsoft.Extensions.Logging;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Telemetry;

public sealed class LoggingTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Logger_SuccessfulCalls_LogOnlyTheStop()
    {
        var logger = new CollectingLogger();
        var pool = new Parallelize<int, int>(x => x, count: 2, new ParallelizeOptions { Logger = logger, Name = "quiet" });
        for (int i = 0; i < 100; i++)
        {
            pool.Invoke(i);
        }

        await pool.DisposeAsync();

        LogEntry stopped = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Information, stopped.Level);
        Assert.Equal(new EventId(5, "PoolStopped"), stopped.EventId);
        Assert.Equal("quiet", stopped.Fields["PoolName"]);
        Assert.Equal(100L, stopped.Fields["Accepted"]);
        Assert.Equal(100L, stopped.Fields["Succeeded"]);
        Assert.Equal(0L, stopped.Fields["Failed"]);
        Assert.Equal(0L, stopped.Fields["Aborted"]);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Logger_FaultingInput_LogsEachRestartAndTheFailureWithoutTheInput()
    {
        var logger = new CollectingLogger();
        using var pool = new Parallelize<string, int>(
            x => x == "secret" ? throw new InvalidDataException("bad") : x.Length,
            count: 1,
            new ParallelizeOptions { Logger = logger, MaxAttempts = 2, RestartBackoff = TimeSpan.Zero, RetryDelay = TimeSpan.Zero, RestartOnEveryFault = true });
        pool.Invoke("ok");
        pool.Invoke("secret");

        await pool.WaitAsync();

        // The restart after the last attempt may follow the failure's delivery.
        await Timeouts.Until(() => logger.Entries.Count(e => e.EventId.Name == "ExecutorRestarted") == 2, "the restart after the last attempt is logged");
        List<LogEntry> entries = logger.Entries;
        List<LogEntry> restarts = entries.FindAll(e => e.EventId.Name == "ExecutorRestarted");
        Assert.Equal(2, restarts.Count);
        Assert.All(restarts, e =>
        {
            Assert.Equal(LogLevel.Warning, e.Level);
            Assert.Equal(0, e.Fields["ExecutorIndex"]);
            Assert.IsType<InvalidDataException>(e.Exception);
        });
        Assert.Equal([1L, 2L], restarts.Select(e => e.Fields["RestartCount"]));

        LogEntry failed = Assert.Single(entries, e => e.EventId.Name == "CallFailed");
        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Equal(2, failed.Fields["Attempts"]);
        Assert.Equal(2L, failed.Fields["CallNumber"]);
        Assert.Equal("unnamed", failed.Fields["PoolName"]);
        Assert.IsType<InvalidDataException>(failed.Exception);
        Assert.DoesNotContain(entries, e => e.Message.Contains("secret", StringComparison.Ordinal));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Logger_EveryExecutorRetired_LogsRetirementsAndTheFault()
    {
        var logger = new CollectingLogger();
        var tried = new Gate();
        using var pool = new Parallelize<int, int>(
            Enumerable.Range(0, 2).Select(_ => Deferred.Create<int, int>(() =>
            {
                tried.Pass();
                throw new InvalidOperationException("cannot connect");
            })),
            new ParallelizeOptions { Logger = logger, MaxRestarts = 0, Name = "doomed" });
        pool.Invoke(1);
        pool.Invoke(2);
        tried.Open();

        await Assert.ThrowsAsync<ParallelizeException>(() => pool.WaitAsync());
        await Timeouts.Until(() => logger.Entries.Exists(e => e.EventId.Name == "PoolFaulted"), "the fault is logged");
        IReadOnlyList<int> aborted = pool.Stop();
        List<LogEntry> entries = logger.Entries;

        List<LogEntry> retired = entries.FindAll(e => e.EventId.Name == "ExecutorRetired");
        Assert.Equal(2, retired.Count);
        Assert.All(retired, e => Assert.Equal(LogLevel.Error, e.Level));
        Assert.Equal([0, 1], retired.Select(e => (int)e.Fields["ExecutorIndex"]!).Order());
        LogEntry fault = Assert.Single(entries, e => e.EventId.Name == "PoolFaulted");
        Assert.Equal(LogLevel.Error, fault.Level);
        Assert.Equal(2, fault.Fields["ExecutorCount"]);
        Assert.IsType<ParallelizeException>(fault.Exception);
        LogEntry stopped = Assert.Single(entries, e => e.EventId.Name == "PoolStopped");
        Assert.Equal((long)aborted.Count, stopped.Fields["Aborted"]);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Logger_NotSet_IsSilentAndThePoolWorks()
    {
        using var pool = new Parallelize<int, int>(x => x == 1 ? throw new InvalidOperationException() : x, count: 1, new ParallelizeOptions { MaxAttempts = 1 });
        pool.Invoke(1);
        pool.Invoke(2);

        await pool.WaitAsync();

        Assert.Single(pool.Failures);
        Assert.Equal([2], pool.Results);
    }
}
