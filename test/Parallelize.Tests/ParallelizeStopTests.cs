using Moq;
using Parallelize.Tests.Support;

namespace Parallelize.Tests;

public sealed class ParallelizeStopTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_WithQueuedInputs_ReturnsThemAsAbortedInCallOrder()
    {
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(work.Run, count: 1);
        for (int i = 1; i <= 10; i++)
        {
            pool.Invoke(i);
        }

        await work.Started.WaitForAsync(1);
        Task<IReadOnlyList<int>> stopping = Task.Run(() => pool.Stop());
        await Timeouts.Until(() => pool.IsStopRequested, "Stop has closed the queue");
        work.Gate.Open();
        IReadOnlyList<int> aborted = await stopping;

        Assert.Equal([2, 3, 4, 5, 6, 7, 8, 9, 10], aborted);
        Assert.Equal([1], pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_FinishTimeoutExpires_CancelsTokenAbortsHungCallAndDiscardsItsLateResult()
    {
        var gate = new Gate();
        var started = new Arrivals();
        CancellationToken seen = default;
        using var pool = new Parallelize<int, int>(
            (x, token) =>
            {
                seen = token;
                started.Arrive();
                gate.Pass(); // ignores the token: a hung call
                return x;
            },
            count: 1);
        pool.Invoke(7);
        await started.WaitForAsync(1);

        IReadOnlyList<int> aborted = await Task.Run(() => pool.Stop(TimeSpan.Zero));

        Assert.Equal([7], aborted);
        Assert.True(seen.IsCancellationRequested);
        gate.Open();
        await pool.WorkersExited.WaitAsync(Timeouts.Hang);
        Assert.Empty(pool.Results);
        Assert.Empty(pool.Failures);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_CallHonoursCancellation_IsAbortedNotCountedAsFault()
    {
        var started = new Arrivals();
        using var pool = new Parallelize<int, int>(
            async (x, token) =>
            {
                started.Arrive();
                await Task.Delay(Timeout.Infinite, token);
                return x;
            },
            count: 2);
        pool.Invoke(1);
        pool.Invoke(2);
        await started.WaitForAsync(2);

        IReadOnlyList<int> aborted = await pool.StopAsync(TimeSpan.Zero);

        Assert.Equal([1, 2], aborted);
        await pool.WorkersExited.WaitAsync(Timeouts.Hang);
        Assert.Equal(0, pool.Restarts);
        Assert.Empty(pool.Failures);
        Assert.Empty(pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_CallsInFlightWithinTimeout_FinishIntoResults()
    {
        var gate = new Gate();
        var started = new Arrivals();
        using var pool = new Parallelize<int, int>(
            x =>
            {
                started.Arrive();
                gate.Pass();
                return x * 2;
            },
            count: 3);
        pool.Invoke(1);
        pool.Invoke(2);
        pool.Invoke(3);
        await started.WaitForAsync(3);

        Task<IReadOnlyList<int>> stopping = pool.StopAsync(Timeouts.Hang);
        gate.Open();

        Assert.Empty(await stopping);
        Assert.Equal([2, 4, 6], pool.Results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_CalledTwice_SecondReturnsEmpty()
    {
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(work.Run, count: 1);
        pool.Invoke(1);
        pool.Invoke(2);

        IReadOnlyList<int> first = await pool.StopAsync(TimeSpan.Zero);
        IReadOnlyList<int> second = await pool.StopAsync(TimeSpan.Zero);
        work.Gate.Open();

        Assert.Equal([1, 2], first);
        Assert.Empty(second);
        Assert.Empty(pool.Stop());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_ConcurrentCalls_ExactlyOneReturnsTheAbortedInputs()
    {
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(work.Run, count: 1);
        for (int i = 0; i < 5; i++)
        {
            pool.Invoke(i);
        }

        await work.Started.WaitForAsync(1);
        Task<IReadOnlyList<int>>[] stops = Enumerable.Range(0, 4).Select(_ => Task.Run(() => pool.Stop())).ToArray();
        await Timeouts.Until(() => pool.IsStopRequested, "a Stop has closed the queue");
        work.Gate.Open();
        IReadOnlyList<int>[] lists = await Task.WhenAll(stops);

        Assert.Single(lists, list => list.Count > 0);
        Assert.Equal([1, 2, 3, 4], lists.Single(list => list.Count > 0));
        Assert.Equal([0], pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_AfterWait_ReturnsEmpty()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 2);
        pool.Invoke(1);
        await pool.WaitAsync();

        Assert.Empty(await Task.Run(() => pool.Stop()));
        Assert.Equal([1], pool.Results);
    }

    [Fact]
    public void Invoke_AfterStop_ThrowsInvalidOperationWithClearMessage()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1);
        pool.Stop();

        var ex = Assert.Throws<InvalidOperationException>(() => pool.Invoke(1));
        Assert.Contains("stopped", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stop_NegativeFinishTimeout_ThrowsArgumentOutOfRangeNamingIt()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1);

        Assert.Equal("finishTimeout", Assert.Throws<ArgumentOutOfRangeException>(() => pool.Stop(TimeSpan.FromSeconds(-1))).ParamName);
        Assert.Equal("finishTimeout", Assert.Throws<ArgumentOutOfRangeException>(() => { _ = pool.StopAsync(TimeSpan.FromSeconds(-1)); }).ParamName);
        Assert.Empty(pool.Stop(Timeout.InfiniteTimeSpan));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task StopAsync_CancellationToken_CutsTheFinishPeriodShort()
    {
        var started = new Arrivals();
        var gate = new Gate();
        using var pool = new Parallelize<int, int>(
            x =>
            {
                started.Arrive();
                gate.Pass();
                return x;
            },
            count: 1);
        pool.Invoke(1);
        await started.WaitForAsync(1);
        using var cts = new CancellationTokenSource();

        Task<IReadOnlyList<int>> stopping = pool.StopAsync(cancellationToken: cts.Token);
        Assert.False(stopping.IsCompleted);
        await cts.CancelAsync();

        Assert.Equal([1], await stopping);
        gate.Open();
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_ExecutorsThatAreDisposable_AreDisposedOnce()
    {
        var executor = new Mock<IExecutor<int, int>>();
        executor.Setup(e => e.Execute(It.IsAny<int>(), It.IsAny<CancellationToken>())).Returns<int, CancellationToken>((x, _) => x);
        Mock<IDisposable> disposable = executor.As<IDisposable>();
        var pool = new Parallelize<int, int>([executor.Object, executor.Object, executor.Object]);
        pool.Invoke(1);
        await pool.WaitAsync();

        await pool.StopAsync();

        disposable.Verify(d => d.Dispose(), Times.Once);
        Assert.Empty(await pool.GetExecutorsAsync());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_WorkerInRestartBackoff_ReturnsWithoutWaitingForTheBackoff()
    {
        var clock = new ManualTimeProvider();
        var options = new ParallelizeOptions
        {
            TimeProvider = clock,
            RestartBackoff = TimeSpan.FromHours(1),
            MaxAttempts = 10,
            RetryDelay = TimeSpan.Zero,
            RestartOnEveryFault = true,
        };
        using var pool = new Parallelize<int, int>(_ => throw new InvalidOperationException("always"), count: 1, options);
        pool.Invoke(1);

        // First restart is immediate; the second waits an hour of (manual) time.
        await clock.TimersCreated.WaitForAsync(1);
        IReadOnlyList<int> aborted = await pool.StopAsync();

        Assert.Equal([1], aborted);
        Assert.Equal(1, pool.Restarts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_InputWaitingOutItsRetryDelay_IsAbortedAtOnceWithoutWaitingForTheDelay()
    {
        var clock = new ManualTimeProvider();
        var options = new ParallelizeOptions { TimeProvider = clock, RetryDelay = TimeSpan.FromHours(1) };
        int calls = 0;
        using var pool = new Parallelize<int, int>(x => Interlocked.Increment(ref calls) == 1 ? throw new InvalidOperationException("once") : x, count: 1, options);
        pool.Invoke(1);
        await clock.TimersCreated.WaitForAsync(1);
        Assert.Equal(1, pool.GetProgress().Queued);

        IReadOnlyList<int> aborted = await pool.StopAsync();

        Assert.Equal([1], aborted);
        Assert.Equal([1], pool.Aborted);
        Assert.Empty(pool.AbortedWhileRunning);
        Assert.Equal(1, calls);
    }
}
