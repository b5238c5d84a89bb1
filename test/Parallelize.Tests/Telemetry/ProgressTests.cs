using Parallelize.Tests.Support;

namespace Parallelize.Tests.Telemetry;

public sealed class ProgressTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task GetProgress_AfterWait_CountsEveryCallCompleted()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 2);
        for (int i = 0; i < 20; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();
        ParallelizeProgress progress = pool.GetProgress();

        Assert.Equal(20, progress.Accepted);
        Assert.Equal(20, progress.Succeeded);
        Assert.Equal(0, progress.Queued);
        Assert.Equal(0, progress.Running);
        Assert.Equal(0, progress.Failed);
        Assert.Equal(TimeSpan.Zero, progress.EstimatedTimeLeft);
        Assert.False(progress.IsStopped);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task GetProgress_OneOfTwoFactoriesAlwaysFails_ShowsOneRetiredAndNotFaulted()
    {
        var options = new ParallelizeOptions { MaxRestarts = 0 };
        Executor<int, int>[] executors =
        [
            Deferred.Create<int, int>(() => throw new InvalidOperationException("cannot connect")),
            (Func<int, int>)(x => x),
        ];
        using var pool = new Parallelize<int, int>(executors, options);
        await pool.GetExecutorsAsync();

        ParallelizeProgress progress = pool.GetProgress();

        Assert.Equal(2, progress.Executors);
        Assert.Equal(1, progress.RetiredExecutors);
        Assert.False(progress.IsFaulted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task GetProgress_EveryFactoryFails_ShowsThePoolFaulted()
    {
        var options = new ParallelizeOptions { MaxRestarts = 0 };
        using var pool = new Parallelize<int, int>(
            Enumerable.Range(0, 3).Select(_ => Deferred.Create<int, int>(() => throw new InvalidOperationException("cannot connect"))),
            options);
        await Assert.ThrowsAsync<ParallelizeException>(() => pool.GetExecutorsAsync());

        ParallelizeProgress progress = pool.GetProgress();

        Assert.Equal(3, progress.Executors);
        Assert.Equal(3, progress.RetiredExecutors);
        Assert.True(progress.IsFaulted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task EstimatedTimeLeft_UnderBackpressureWithTheTotalKnown_StaysWithinAQuarterOfTheTruth()
    {
        // One executor, 10 ms of clock time per call, a queue of 10: the producer is held back, so the queue alone would
        // say a tenth of a second is left when ten seconds are.
        var clock = new ManualTimeProvider();
        const int Total = 1_000;
        var options = new ParallelizeOptions { TimeProvider = clock, BoundedCapacity = 10, ExpectedCalls = Total };
        using var pool = new Parallelize<int, int>(
            async (x, token) =>
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), clock, token);
                return x;
            },
            1,
            options);
        Task producer = Task.Run(async () =>
        {
            for (int i = 0; i < Total; i++)
            {
                await pool.InvokeAsync(i);
            }
        });

        var errors = new List<double>();
        await ClockDriver.AdvanceUntilAsync(clock, producer.ContinueWith(_ => pool.WaitAsync()).Unwrap(), TimeSpan.FromMilliseconds(10), () =>
        {
            ParallelizeProgress progress = pool.GetProgress();
            long ended = progress.Succeeded;
            if (ended is >= 200 and <= 800 && progress.EstimatedTimeLeft is { } left)
            {
                double truth = (Total - ended) * 0.010;
                errors.Add(Math.Abs(left.TotalSeconds - truth) / truth);
            }
        });

        Assert.NotEmpty(errors);
        Assert.True(errors.Max() <= 0.25, $"the estimate was off by up to {errors.Max():P0}");
        ParallelizeProgress done = pool.GetProgress();
        Assert.Equal(Total, done.ExpectedCalls);
        Assert.Equal(100, done.PercentComplete);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task PercentComplete_TotalSetLater_CountsEveryEndedCall()
    {
        using var pool = new Parallelize<int, int>(x => x < 3 ? throw new InvalidDataException("bad") : x, 1, new ParallelizeOptions { MaxAttempts = 1 });
        Assert.Null(pool.GetProgress().PercentComplete);
        pool.SetExpectedCalls(20);
        for (int i = 0; i < 10; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        Assert.Equal(50, pool.GetProgress().PercentComplete);
        Assert.Throws<ArgumentOutOfRangeException>(() => pool.SetExpectedCalls(-1));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task GetProgress_WhileCallsAreHeld_ShowsThemQueuedAndRunningWithTimeLeftUnknown()
    {
        var function = new GatedFunction();
        using var pool = new Parallelize<int, int>(function.Run, count: 1, new ParallelizeOptions { TimeProvider = new ManualTimeProvider() });
        for (int i = 0; i < 5; i++)
        {
            pool.Invoke(i);
        }

        await function.Started.WaitForAsync(1);
        ParallelizeProgress progress = pool.GetProgress();
        function.Gate.Open();

        Assert.Equal(5, progress.Accepted);
        Assert.Equal(1, progress.Running);
        Assert.Equal(4, progress.Queued);
        Assert.Equal(0, progress.Succeeded);
        Assert.Equal(0, progress.Throughput);
        Assert.Null(progress.EstimatedTimeLeft);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task GetProgress_ThroughputOverTheClock_EstimatesTimeLeftAndForgetsOldRates()
    {
        var clock = new ManualTimeProvider();
        var gate = new Gate();
        var started = new Arrivals();
        using var pool = new Parallelize<int, int>(
            x =>
            {
                if (x > 0)
                {
                    started.Arrive();
                    gate.Pass();
                }

                return x;
            },
            count: 1,
            new ParallelizeOptions { TimeProvider = clock });
        for (int i = 0; i < 10; i++)
        {
            pool.Invoke(0);
        }

        await pool.WaitAsync();
        clock.Advance(TimeSpan.FromSeconds(2));
        ParallelizeProgress done = pool.GetProgress();
        for (int i = 0; i < 5; i++)
        {
            pool.Invoke(1);
        }

        await started.WaitForAsync(1);
        ParallelizeProgress busy = pool.GetProgress();
        clock.Advance(TimeSpan.FromSeconds(10));
        ParallelizeProgress stale = pool.GetProgress();
        gate.Open();

        Assert.Equal(5.0, done.Throughput);
        Assert.Equal(TimeSpan.FromSeconds(2), done.Elapsed);
        Assert.Equal(TimeSpan.Zero, done.EstimatedTimeLeft);
        Assert.Equal(TimeSpan.FromSeconds(1), busy.EstimatedTimeLeft); // 5 left at 5 per second
        Assert.Equal(0, stale.Throughput); // nothing ended in the last window
        Assert.Null(stale.EstimatedTimeLeft);
        Assert.Equal(TimeSpan.FromSeconds(12), stale.Elapsed);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task GetProgress_FaultsAndRetries_CountsFailedRetriedAndRestarted()
    {
        using var pool = new Parallelize<int, int>(
            x => x == 7 ? throw new InvalidOperationException("seven") : x,
            count: 1,
            new ParallelizeOptions { MaxAttempts = 3, RestartBackoff = TimeSpan.Zero, RetryDelay = TimeSpan.Zero, RestartOnEveryFault = true });
        pool.Invoke(1);
        pool.Invoke(7);
        pool.Invoke(2);

        await pool.WaitAsync();

        // The restart after the last attempt may follow the failure's delivery.
        await Timeouts.Until(() => pool.Restarts == 3, "the executor is restarted after the last attempt");
        ParallelizeProgress progress = pool.GetProgress();

        Assert.Equal(3, progress.Accepted);
        Assert.Equal(2, progress.Succeeded);
        Assert.Equal(1, progress.Failed);
        Assert.Equal(2, progress.Retried);
        Assert.Equal(3, progress.Restarted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task GetProgress_AfterStop_IsFinalWithAbortedCountedAndElapsedFrozen()
    {
        var clock = new ManualTimeProvider();
        var function = new GatedFunction();
        using var pool = new Parallelize<int, int>(function.Run, count: 2, new ParallelizeOptions { TimeProvider = clock });
        for (int i = 0; i < 10; i++)
        {
            pool.Invoke(i);
        }

        await function.Started.WaitForAsync(2);
        clock.Advance(TimeSpan.FromSeconds(3));
        Task<IReadOnlyList<int>> stopping = pool.StopAsync();
        await Timeouts.Until(() => pool.GetProgress().Aborted == 8, "the queued calls count as aborted");
        function.Gate.Open();
        IReadOnlyList<int> aborted = await stopping;
        clock.Advance(TimeSpan.FromSeconds(5));
        ParallelizeProgress progress = pool.GetProgress();

        Assert.True(progress.IsStopped);
        Assert.Equal(aborted.Count, progress.Aborted);
        Assert.Equal(2, progress.Succeeded);
        Assert.Equal(progress.Accepted, progress.Succeeded + progress.Failed + progress.Aborted);
        Assert.Equal(TimeSpan.FromSeconds(3), progress.Elapsed);
        Assert.Equal(TimeSpan.Zero, progress.EstimatedTimeLeft);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task GetProgress_StopAfterFinishTimeout_CountsStolenAndLateAbortsOnce()
    {
        var function = new GatedFunction();
        using var pool = new Parallelize<int, int>(function.Run, count: 3);
        for (int i = 0; i < 6; i++)
        {
            pool.Invoke(i);
        }

        await function.Started.WaitForAsync(3);
        IReadOnlyList<int> aborted = pool.Stop(TimeSpan.Zero);
        function.Gate.Open();
        ParallelizeProgress progress = pool.GetProgress();

        Assert.Equal(6, aborted.Count);
        Assert.Equal(6, progress.Aborted);
        Assert.Equal(0, progress.Succeeded);
    }
}
