namespace Parallelize.Orleans.Tests;

/// <summary>The split of a stopped pool's aborted inputs, on a local pool (it only reads the pool's own lists).</summary>
public sealed class ClusterStopReportTests
{
    [Fact(Timeout = Support.Timeouts.Test)]
    public async Task Of_PoolStoppedWithCallsRunning_SplitsAbortedIntoNeverStartedAndTheRunningOnes()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var started = new SemaphoreSlim(0);
        Executor<int, int>[] executors = [.. Enumerable.Range(0, 2).Select(_ => (Executor<int, int>)(Func<int, CancellationToken, ValueTask<int>>)(async (input, token) =>
        {
            started.Release();
            await gate.Task.WaitAsync(token);
            return input;
        }))];
        var pool = new Parallelize<int, int>(executors);
        for (int i = 0; i < 6; i++)
        {
            pool.Invoke(i);
        }

        Assert.True(await started.WaitAsync(Support.Timeouts.Wait));
        Assert.True(await started.WaitAsync(Support.Timeouts.Wait));

        await pool.StopAsync(TimeSpan.Zero);
        ClusterStopReport<int> report = ClusterStopReport<int>.Of(pool);

        Assert.Equal(pool.AbortedWhileRunning, report.OutcomeUnknown);
        Assert.Equal(2, report.OutcomeUnknown.Count);
        Assert.Equal(pool.Aborted.Except(report.OutcomeUnknown), report.NeverStarted);
        Assert.Equal(6, report.Count);
        await pool.DisposeAsync();
    }

    [Fact]
    public void Of_PoolNotStopped_IsEmpty()
    {
        using var pool = new Parallelize<int, int>([Executor.Create(static (int x) => x)]);

        ClusterStopReport<int> report = ClusterStopReport<int>.Of(pool);

        Assert.Equal(0, report.Count);
    }
}
