using System.Diagnostics.Metrics;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Telemetry;

public sealed class MetricsTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Meter_FromFactory_CountsCallsCompletionsFailuresRetriesRestartsAndAborts()
    {
        using var factory = new TestMeterFactory();
        using var metrics = new MetricsRecorder(instrument => factory.Meters.Contains(instrument.Meter));
        var function = new GatedFunction();
        using var pool = new Parallelize<int, int>(
            x => x == 13 ? throw new InvalidOperationException("13") : x < 100 ? x : function.Run(x),
            count: 1,
            new ParallelizeOptions { MeterFactory = factory, MaxAttempts = 2, RestartBackoff = TimeSpan.Zero, RetryDelay = TimeSpan.Zero, RestartOnEveryFault = true });
        for (int i = 10; i < 15; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();
        pool.Invoke(100);
        pool.Invoke(101);
        pool.Invoke(102);
        await function.Started.WaitForAsync(1);
        Dictionary<string, long> running = metrics.Observe();
        Task<IReadOnlyList<int>> stopping = pool.StopAsync();
        // The executor's batch may hold 101 as well as 100 (batches grow while calls are fast): it is aborted when its turn comes.
        await Timeouts.Until(() => pool.GetProgress() is { Aborted: var aborted, Running: var inFlight } && aborted + inFlight == 3, "the queued calls are aborted");
        function.Gate.Open();
        await stopping;
        Dictionary<string, long> stopped = metrics.Observe();

        Meter meter = Assert.Single(factory.Meters);
        Assert.Equal(ParallelizeMetrics.MeterName, meter.Name);
        Assert.Equal(8, running[ParallelizeMetrics.Calls]);
        Assert.Equal(4, running[ParallelizeMetrics.Succeeded]);
        Assert.Equal(1, running[ParallelizeMetrics.Failures]);
        Assert.Equal(1, running[ParallelizeMetrics.Retries]);
        Assert.Equal(2, running[ParallelizeMetrics.Restarts]);
        Assert.Equal(0, running[ParallelizeMetrics.Aborted]);
        Assert.Equal(3, running[ParallelizeMetrics.Queued] + running[ParallelizeMetrics.InFlight]);
        Assert.InRange(running[ParallelizeMetrics.InFlight], 1, 3);

        // A stopped pool's final counts stay in the totals, so the counters never go back.
        Assert.Equal(8, stopped[ParallelizeMetrics.Calls]);
        Assert.Equal(5, stopped[ParallelizeMetrics.Succeeded]);
        Assert.Equal(2, stopped[ParallelizeMetrics.Aborted]);
        Assert.Equal(0, stopped[ParallelizeMetrics.Queued]);
        Assert.Equal(0, stopped[ParallelizeMetrics.InFlight]);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Meter_Shared_TagsMeasurementsWithThePoolName()
    {
        string name = $"metrics-test-{Guid.NewGuid():N}";
        using var metrics = new MetricsRecorder(instrument => instrument.Meter.Name == ParallelizeMetrics.MeterName, poolName: name);
        var first = new Parallelize<int, int>(x => x, count: 1, new ParallelizeOptions { Name = name });
        var second = new Parallelize<int, int>(x => x, count: 1, new ParallelizeOptions { Name = name });
        for (int i = 0; i < 3; i++)
        {
            first.Invoke(i);
            second.Invoke(i);
        }

        await first.DisposeAsync();
        second.Invoke(3);
        await second.WaitAsync();
        Dictionary<string, long> observed = metrics.Observe();
        await second.DisposeAsync();

        Assert.Equal(7, observed[ParallelizeMetrics.Calls]);
        Assert.Equal(7, observed[ParallelizeMetrics.Succeeded]);
        Assert.Equal(7, metrics.Observe()[ParallelizeMetrics.Succeeded]);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task CallDuration_WithAListener_RecordsEachSuccessfulCallOnThePoolClock()
    {
        using var factory = new TestMeterFactory();
        using var metrics = new MetricsRecorder(instrument => factory.Meters.Contains(instrument.Meter));
        var clock = new ManualTimeProvider();
        using var pool = new Parallelize<int, int>(
            x =>
            {
                clock.Advance(TimeSpan.FromSeconds(x));
                return x == 3 ? throw new InvalidOperationException("not timed") : x;
            },
            count: 1,
            new ParallelizeOptions { MeterFactory = factory, TimeProvider = clock, MaxAttempts = 1, RestartBackoff = TimeSpan.Zero });
        pool.Invoke(1);
        pool.Invoke(2);
        pool.Invoke(3);
        pool.Invoke(4);

        await pool.WaitAsync();

        Assert.Equal([1.0, 2.0, 4.0], metrics.Durations.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task CallDuration_AsyncExecutor_RecordsEachCall()
    {
        using var factory = new TestMeterFactory();
        using var metrics = new MetricsRecorder(instrument => factory.Meters.Contains(instrument.Meter));
        var clock = new ManualTimeProvider();
        using var pool = new Parallelize<int, int>(
            async (x, token) =>
            {
                await Task.Yield();
                clock.Advance(TimeSpan.FromMilliseconds(250));
                return x;
            },
            count: 1,
            new ParallelizeOptions { MeterFactory = factory, TimeProvider = clock });
        for (int i = 0; i < 5; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        Assert.Equal(Enumerable.Repeat(0.25, 5), metrics.Durations);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task CallDuration_WithoutAListener_RecordsNothingAndCallsRun()
    {
        using var factory = new TestMeterFactory();
        using var pool = new Parallelize<int, int>(x => x + 1, count: 2, new ParallelizeOptions { MeterFactory = factory });
        for (int i = 0; i < 1000; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync();

        Assert.Equal(1000, pool.Results.Count);
        Assert.False(pool.Telemetry.CallDuration.Enabled);
    }
}
