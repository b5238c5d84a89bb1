using Parallelize.Linq;
using Parallelize.Pipelines;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Issues;

/// <summary>Regressions for the races a concurrency review found in the first version of the pool.</summary>
public sealed class ReviewRegressionTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Wait_AfterInvokeReturnedOnManyThreads_NeverReturnsBeforeThoseCallsEnded()
    {
        // A second Invoke could return while the first had not yet reset the idle signal; Wait then returned early.
        using var pool = new Parallelize<int, int>(x => x, count: 2);
        long returned = 0;
        long early = 0;

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(
            () =>
            {
                for (int i = 0; i < 5_000; i++)
                {
                    pool.Invoke(i);
                    long before = Interlocked.Increment(ref returned);
                    pool.Wait();
                    if (pool.Results.Count < before)
                    {
                        Interlocked.Increment(ref early);
                    }
                }
            },
            TaskCreationOptions.LongRunning)));

        Assert.Equal(0, early);
        Assert.Equal(40_000, pool.Results.Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_FinishTimeoutBeyondTimerRange_MeansNoLimitAndLosesNothing()
    {
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(work.Run, count: 1);
        for (int i = 0; i < 20; i++)
        {
            pool.Invoke(i);
        }

        await work.Started.WaitForAsync(1);
        Task<IReadOnlyList<int>> stopping = pool.StopAsync(TimeSpan.MaxValue);
        await Timeouts.Until(() => pool.IsStopRequested, "Stop has begun");
        work.Gate.Open();

        Assert.Equal(Enumerable.Range(1, 19), await stopping);
        Assert.Equal([0], pool.Results);
        Assert.True(pool.Wait(TimeSpan.Zero));
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(25)]
    [InlineData(49)]
    public async Task Stop_SynchronousWithFinishTimeoutBeyondWaitRange_MeansNoLimitAndLosesNothing(int days)
    {
        // Task.Wait rejects more than int.MaxValue milliseconds (about 24.8 days); the synchronous Stop used to throw
        // after it had closed the queue, losing the queued calls.
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(work.Run, count: 1);
        for (int i = 0; i < 5; i++)
        {
            pool.Invoke(i);
        }

        await work.Started.WaitForAsync(1);
        Task<IReadOnlyList<int>> stopping = Task.Run(() => pool.Stop(TimeSpan.FromDays(days)));
        await Timeouts.Until(() => pool.IsStopRequested, "Stop has begun");
        work.Gate.Open();

        Assert.Equal([1, 2, 3, 4], await stopping);
        Assert.Equal([0], pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Dispose_WhileAnotherThreadInvokes_EveryAcceptedCallEndsInResults()
    {
        // Dispose used to wait, then stop: a call accepted in between was aborted and dropped.
        for (int round = 0; round < 20; round++)
        {
            var pool = new Parallelize<int, int>(x => x, count: 2);
            int accepted = 0;
            var producing = new Arrivals();
            Task producer = Task.Factory.StartNew(
                () =>
                {
                    for (int i = 0; ; i++)
                    {
                        try
                        {
                            pool.Invoke(i);
                        }
                        catch (ObjectDisposedException)
                        {
                            return;
                        }

                        accepted++;
                        producing.Arrive();
                    }
                },
                TaskCreationOptions.LongRunning);

            await producing.WaitForAsync(100);
            await Task.Run(pool.Dispose);
            await producer;

            Assert.Equal(accepted, pool.Results.Count);
            Assert.Empty(pool.Failures);
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_WhileDisposing_IsRefusedWithObjectDisposedOrWaitedFor()
    {
        var gate = new Gate();
        var started = new Arrivals();
        var pool = new Parallelize<int, int>(
            x =>
            {
                if (x == 0)
                {
                    started.Arrive();
                    gate.Pass();
                }

                return x;
            },
            count: 1);
        pool.Invoke(0);
        await started.WaitForAsync(1);

        Task disposing = Task.Run(pool.Dispose);
        int accepted = 0;
        await Timeouts.Until(
            () =>
            {
                try
                {
                    pool.Invoke(1);
                    accepted++;
                    return false;
                }
                catch (ObjectDisposedException)
                {
                    return true;
                }
            },
            "Dispose refuses new calls");
        Assert.False(disposing.IsCompleted);
        gate.Open();
        await disposing;

        Assert.Equal(1 + accepted, pool.Results.Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_BlockedOnAFullQueueWhenThePoolFaults_IsRefusedWithTheFault()
    {
        var gate = new Gate();
        var started = new Arrivals();
        using var pool = new Parallelize<int, int>(
            _ =>
            {
                started.Arrive();
                gate.Pass();
                throw new ExecutorLostException("connection lost");
            },
            count: 1,
            new ParallelizeOptions { BoundedCapacity = 1, MaxRestarts = 0 });
        pool.Invoke(1);
        await started.WaitForAsync(1);
        pool.Invoke(2);
        Task blocked = Task.Run(() => pool.Invoke(3));

        gate.Open();

        await Assert.ThrowsAsync<ParallelizeException>(() => blocked);
        Assert.Equal([1, 2], await pool.StopAsync());
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ReadAllAsync_PoolFaultsWithCallsQueued_EndsWithTheFaultInsteadOfWaitingForever(bool retain)
    {
        var gate = new Gate();
        using var pool = new Parallelize<int, int>(
            x =>
            {
                gate.Pass();
                return x == 0 ? 0 : throw new ExecutorLostException("connection lost");
            },
            count: 1,
            new ParallelizeOptions { MaxRestarts = 0, RetainResults = retain, OrderedResults = true });
        for (int i = 0; i < 5; i++)
        {
            pool.Invoke(i);
        }

        pool.Complete();
        var read = new List<int>();
        Task reading = Task.Run(async () =>
        {
            await foreach (int result in pool.ReadResultsAsync())
            {
                read.Add(result);
            }
        });
        gate.Open();

        await Assert.ThrowsAsync<ParallelizeException>(() => reading);
        Assert.Equal([0], read);
        Assert.Equal([1, 2, 3, 4], (await pool.StopAsync()).Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ParallelMap_EveryExecutorRetired_ThrowsInsteadOfHanging()
    {
        var options = new ParallelizeOptions { MaxRestarts = 0 };

        await Assert.ThrowsAsync<ParallelizeException>(() => Task.Run(() => Enumerable.Range(0, 1000)
            .ParallelMap([Executor.Create<int, int>(_ => throw new ExecutorLostException("connection lost"))], ordered: true, options)
            .ToList()));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Pipeline_StageWithEveryExecutorRetired_StopsAndThrowsInsteadOfHanging()
    {
        var options = new ParallelizeOptions { MaxRestarts = 0 };

        var fault = await Assert.ThrowsAsync<ParallelizeException>(() => Task.Run(() => Pipeline.From(Enumerable.Range(0, 100_000))
            .Then([Executor.Create<int, int>(_ => throw new ExecutorLostException("connection lost"))], options: options)
            .ForEach(_ => { })));

        // Said of the stage, naming what the pipeline would have returned, with every stage's report.
        Assert.StartsWith("Pipeline stage '1: Then' cannot run", fault.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Stop", fault.Message, StringComparison.Ordinal);
        Assert.Equal(["1: Then", "2: final"], fault.Stages.Select(s => s.Name));
        Assert.True(fault.Stages[0].AbortedCount > 0);
    }

    [Fact(Timeout = 120_000)]
    public async Task Stop_RacingRefusedInvokes_TheResultStreamStillEnds()
    {
        // A refused Invoke used to count as pending for an instant; if that instant fell after the collector's last
        // look, the stream never ended. The race is narrow: many rounds give it many chances.
        for (int round = 0; round < 1_000; round++)
        {
            var pool = new Parallelize<int, int>(x => x, count: 2, new ParallelizeOptions { RetainResults = false });
            Task<int> reading = Task.Run(async () =>
            {
                int n = 0;
                await foreach (int result in pool.ReadResultsAsync())
                {
                    n++;
                }

                return n;
            });
            using var go = new Barrier(3);
            Task[] producers = [.. Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
            {
                go.SignalAndWait();
                try
                {
                    for (int i = 0; ; i++)
                    {
                        pool.Invoke(i);
                    }
                }
                catch (InvalidOperationException)
                {
                    // Stopped.
                }
            }))];
            go.SignalAndWait();
            IReadOnlyList<int> aborted = await pool.StopAsync(TimeSpan.Zero);
            await Task.WhenAll(producers);

            await reading.WaitAsync(Timeouts.Hang);
        }
    }
}
