using Parallelize.Tests.Support;

namespace Parallelize.Tests.Telemetry;

public sealed class ProgressReportTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Progress_EveryInterval_ReportsOnTheClockAndLastOnStop()
    {
        var clock = new ManualTimeProvider();
        var progress = new CollectingProgress();
        var pool = new Parallelize<int, int>(x => x, count: 1, new ParallelizeOptions
        {
            TimeProvider = clock,
            Progress = progress,
            ProgressInterval = TimeSpan.FromSeconds(1),
        });
        pool.Invoke(1);
        await pool.WaitAsync();

        clock.Advance(TimeSpan.FromMilliseconds(999));
        int beforeDue = progress.Reports.Count;
        clock.Advance(TimeSpan.FromMilliseconds(1));
        int atFirst = progress.Reports.Count;
        clock.Advance(TimeSpan.FromSeconds(1));
        int atSecond = progress.Reports.Count;
        await pool.DisposeAsync();
        clock.Advance(TimeSpan.FromSeconds(5));
        List<ParallelizeProgress> reports = progress.Reports;

        Assert.Equal(0, beforeDue);
        Assert.Equal(1, atFirst);
        Assert.Equal(2, atSecond);
        Assert.Equal(3, reports.Count); // none after the last
        Assert.Equal(1, reports[0].Succeeded);
        Assert.False(reports[1].IsStopped);
        Assert.True(reports[2].IsStopped);
        Assert.Equal(TimeSpan.FromSeconds(2), reports[2].Elapsed);
    }

    [Fact]
    public void ProgressInterval_DefaultsToHalfASecond() =>
        Assert.Equal(TimeSpan.FromMilliseconds(500), new ParallelizeOptions().ProgressInterval);

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void ProgressInterval_NotPositive_Throws(int milliseconds)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new ParallelizeOptions { ProgressInterval = TimeSpan.FromMilliseconds(milliseconds) });
        Assert.Equal(nameof(ParallelizeOptions.ProgressInterval), ex.ParamName);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Progress_HandlerThrows_IsLoggedAndThePoolGoesOn()
    {
        var clock = new ManualTimeProvider();
        var logger = new CollectingLogger();
        int calls = 0;
        using var pool = new Parallelize<int, int>(x => x, count: 1, new ParallelizeOptions
        {
            TimeProvider = clock,
            Logger = logger,
            Progress = new CollectingProgress(_ => throw new InvalidOperationException($"handler {Interlocked.Increment(ref calls)}")),
            ProgressInterval = TimeSpan.FromSeconds(1),
        });

        clock.Advance(TimeSpan.FromSeconds(1));
        clock.Advance(TimeSpan.FromSeconds(1));
        pool.Invoke(4);
        await pool.WaitAsync();

        Assert.Equal([4], pool.Results);
        Assert.Equal(2, calls); // the timer was re-armed after the throw
        Assert.Equal(2, logger.Entries.Count(e => e.EventId.Name == "ProgressHandlerFailed"));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Progress_HandlerStopsThePool_GetsTheLastReportWithoutDeadlock()
    {
        var clock = new ManualTimeProvider();
        Parallelize<int, int>? pool = null;
        IReadOnlyList<int>? aborted = null;
        var function = new GatedFunction();
        var progress = new CollectingProgress(report =>
        {
            if (!report.IsStopped)
            {
                function.Gate.Open();
                aborted = pool!.Stop();
            }
        });
        pool = new Parallelize<int, int>(function.Run, count: 1, new ParallelizeOptions
        {
            TimeProvider = clock,
            Progress = progress,
            ProgressInterval = TimeSpan.FromSeconds(1),
        });
        pool.Invoke(1);
        pool.Invoke(2);
        await function.Started.WaitForAsync(1);

        clock.Advance(TimeSpan.FromSeconds(1));
        List<ParallelizeProgress> reports = progress.Reports;

        Assert.NotNull(aborted);
        Assert.Equal(2, reports.Count);
        Assert.False(reports[0].IsStopped);
        Assert.True(reports[1].IsStopped);
        Assert.Equal(aborted.Count, reports[1].Aborted);
        Assert.Equal(2, reports[1].Succeeded + reports[1].Aborted);
        await pool.DisposeAsync();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Progress_PoolFaults_ReportsAtOnce()
    {
        var progress = new CollectingProgress();
        var tried = new Gate();
        using var pool = new Parallelize<int, int>(
            [Deferred.Create<int, int>(() =>
            {
                tried.Pass();
                throw new InvalidOperationException("cannot connect");
            })],
            new ParallelizeOptions { MaxRestarts = 0, Progress = progress, TimeProvider = new ManualTimeProvider() });
        pool.Invoke(1);
        tried.Open();

        await Assert.ThrowsAsync<ParallelizeException>(() => pool.WaitAsync());
        await Timeouts.Until(() => progress.Reports.Count == 1, "the fault is reported");
        Assert.Equal(1, progress.Reports[0].Accepted);
        _ = pool.Stop();
    }
}
