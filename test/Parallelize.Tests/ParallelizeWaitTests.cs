using Parallelize.Tests.Support;

namespace Parallelize.Tests;

public sealed class ParallelizeWaitTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Wait_NoCalls_ReturnsAtOnce()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 2);

        Assert.True(await Task.Run(() => pool.Wait(TimeSpan.Zero)));
        await Task.Run(pool.Wait);
        await pool.WaitAsync();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Wait_CallsInFlight_ReturnsOnlyWhenEveryCallHasEnded()
    {
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(work.Run, count: 2);
        for (int i = 0; i < 10; i++)
        {
            pool.Invoke(i);
        }

        await work.Started.WaitForAsync(2);
        Assert.False(pool.Wait(TimeSpan.Zero));
        Task waiting = pool.WaitAsync();
        Assert.False(waiting.IsCompleted);

        work.Gate.Open();
        await waiting;
        Assert.Equal(10, pool.Results.Count);
        Assert.True(await Task.Run(() => pool.Wait(Timeouts.Hang)));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Wait_CallsQueuedWhileWaiting_WaitsForThemToo()
    {
        var gate = new Gate();
        Parallelize<int, int>? pool = null;
        pool = new Parallelize<int, int>(
            x =>
            {
                if (x < 5)
                {
                    // Queue the next call from inside the executor, while the test is already waiting.
                    gate.Pass();
                    pool!.Invoke(x + 1);
                }

                return x;
            },
            count: 2);
        using (pool)
        {
            pool.Invoke(0);
            Task waiting = Task.Run(pool.Wait);
            gate.Open();
            await waiting;

            Assert.Equal([0, 1, 2, 3, 4, 5], pool.Results.Order());
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task WaitAsync_Cancelled_ThrowsOperationCanceled()
    {
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(work.Run, count: 1);
        pool.Invoke(1);
        using var cts = new CancellationTokenSource();

        Task waiting = pool.WaitAsync(cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        work.Gate.Open();
        await pool.WaitAsync();
    }

    [Fact]
    public void Wait_NegativeTimeout_ThrowsArgumentOutOfRangeNamingTimeout()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1);

        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => pool.Wait(TimeSpan.FromMilliseconds(-2)));
        Assert.Equal("timeout", ex.ParamName);
        Assert.True(pool.Wait(Timeout.InfiniteTimeSpan));
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData("Wait")]
    [InlineData("WaitTimeout")]
    [InlineData("WaitAsync")]
    [InlineData("Stop")]
    [InlineData("StopAsync")]
    public async Task WaitingCalls_FromInsideOwnExecutor_ThrowInvalidOperationInsteadOfDeadlocking(string operation)
    {
        Parallelize<int, string>? pool = null;
        pool = new Parallelize<int, string>(
            x =>
            {
                try
                {
                    switch (operation)
                    {
                        case "Wait": pool!.Wait(); break;
                        case "WaitTimeout": pool!.Wait(TimeSpan.FromSeconds(1)); break;
                        case "WaitAsync": pool!.WaitAsync().GetAwaiter().GetResult(); break;
                        case "Stop": pool!.Stop(); break;
                        default: pool!.StopAsync().GetAwaiter().GetResult(); break;
                    }

                    return "no exception";
                }
                catch (InvalidOperationException ex)
                {
                    return ex.Message;
                }
            },
            count: 1);
        using (pool)
        {
            pool.Invoke(1);
            await pool.WaitAsync();

            string message = Assert.Single(pool.Results);
            Assert.Contains("from inside one of this pool's own executors", message, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Wait_FromInsideAnotherPoolsExecutor_IsAllowed()
    {
        using var inner = new Parallelize<int, int>(x => x * 10, count: 1);
        using var outer = new Parallelize<int, int>(
            x =>
            {
                inner.Invoke(x);
                inner.Wait();
                return x;
            },
            count: 1);

        outer.Invoke(3);
        await outer.WaitAsync();

        Assert.Equal([3], outer.Results);
        Assert.Equal([30], inner.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Wait_AfterStop_ReturnsAtOnce()
    {
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(work.Run, count: 1);
        pool.Invoke(1);
        pool.Invoke(2);

        IReadOnlyList<int> aborted = await pool.StopAsync(TimeSpan.Zero);
        work.Gate.Open();

        Assert.True(await Task.Run(() => pool.Wait(TimeSpan.Zero)));
        Assert.Equal([1, 2], aborted);
    }
}
