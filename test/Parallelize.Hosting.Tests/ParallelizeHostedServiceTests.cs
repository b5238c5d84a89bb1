using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Parallelize.Hosting.Tests.Support;

namespace Parallelize.Hosting.Tests;

/// <summary>The pool's life with the host: what the start queues, and what the stop aborts, hands to the store and refuses.</summary>
public sealed class ParallelizeHostedServiceTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task StopAsync_QueuedAndRunningInputs_AreSavedInCallOrderAndLaterCallsAreRefused()
    {
        var store = new MemoryStore<int>();
        using IHost host = TestHost.Build(
            services =>
            {
                services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>(count: 2).UseAbortedInputStore(_ => store);
            },
            new() { ["Parallelize:ShutdownFinishTimeout"] = "00:00:00" });
        Switchboard board = host.Services.GetRequiredService<Switchboard>();
        board.Holds = static input => input > 2;

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        var ledger = new Ledger<int>();
        for (int i = 1; i <= 10; i++)
        {
            ledger.Invoke(pool, i);
        }

        await board.Started.WaitForAsync(4); // 1 and 2, then two held calls
        await Timeouts.Until(() => pool.Results.Count == 2, "1 and 2 are done");
        await host.StopAsync();
        var refusal = Assert.Throws<InvalidOperationException>(() => pool.Invoke(11));
        board.Gate.Open();

        Assert.Contains("stopped", refusal.Message, StringComparison.Ordinal);
        IReadOnlyList<int> saved = Assert.Single(store.Saves);
        Assert.Equal([3, 4, 5, 6, 7, 8, 9, 10], saved);
        Conservation.AssertHolds(ledger.Accepted, pool, saved);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task StopAsync_CallInFlightIgnoringItsToken_GetsTheShutdownTimeoutLessTheMarginThenIsSaved()
    {
        var clock = new ManualTimeProvider();
        var store = new MemoryStore<int>();
        using IHost host = TestHost.Build(
            services =>
            {
                services.AddSingleton<TimeProvider>(clock);
                services.Configure<HostOptions>(options => options.ShutdownTimeout = TimeSpan.FromSeconds(10));
                services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>().UseAbortedInputStore(_ => store);
            },
            new() { ["Parallelize:ShutdownMargin"] = "00:00:02" });
        Switchboard board = host.Services.GetRequiredService<Switchboard>();
        board.Holds = static _ => true;
        board.IgnoreCancellation = true;

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        pool.Invoke(1);
        await board.Started.WaitForAsync(1);
        int timers = clock.TimersCreated.Count;
        Task stopping = host.StopAsync();
        await clock.TimersCreated.WaitForAsync(timers + 1); // the finish timeout's timer
        TimeSpan finishTimeout = clock.CreatedDueTimes[^1];
        clock.Advance(TimeSpan.FromSeconds(7.9));
        bool stoppedEarly = stopping.IsCompleted;
        clock.Advance(TimeSpan.FromSeconds(0.1));
        await stopping.WaitAsync(Timeouts.Hang);
        board.Gate.Open();

        Assert.Equal(TimeSpan.FromSeconds(8), finishTimeout);
        Assert.False(stoppedEarly);
        Assert.Equal([1], Assert.Single(store.Saves));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task StopAsync_HostGivesUpAtOnce_CallsInFlightAreAbortedWithoutWaitingAndSaved()
    {
        var store = new MemoryStore<int>();
        using IHost host = TestHost.Build(services =>
        {
            services.AddSingleton<TimeProvider>(new ManualTimeProvider()); // the finish timeout never elapses by itself
            services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>().UseAbortedInputStore(_ => store);
        });
        Switchboard board = host.Services.GetRequiredService<Switchboard>();
        board.Holds = static _ => true;

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        pool.Invoke(1);
        pool.Invoke(2);
        await board.Started.WaitForAsync(1);
        await host.StopAsync(new CancellationToken(canceled: true)).WaitAsync(Timeouts.Hang);

        Assert.Equal([1, 2], Assert.Single(store.Saves));
        Assert.Empty(pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task StartAsync_StoreHoldsInputs_QueuesThemBeforeTheProducersAndTheStopReplacesTheSave()
    {
        var store = new MemoryStore<int> { Saved = [5, 6, 7] };
        using IHost host = TestHost.Build(services =>
        {
            services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>().UseAbortedInputStore(_ => store);
        });

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        long acceptedAtStart = pool.GetProgress().Accepted;
        pool.Invoke(8);
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        await host.StopAsync();

        Assert.Equal(3, acceptedAtStart);
        Assert.Equal([5, 6, 7, 8], pool.Results.Order());
        Assert.Equal(1, store.Loads);
        Assert.Empty(Assert.Single(store.Saves));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task StartAsync_AbandonedWhileQueuingSavedInputs_SavesTheOnesNotQueuedAgain()
    {
        var store = new MemoryStore<int> { Saved = [.. Enumerable.Range(1, 10)] };
        using IHost host = TestHost.Build(
            services =>
            {
                services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>().UseAbortedInputStore(_ => store);
            },
            new() { ["Parallelize:BoundedCapacity"] = "2", ["Parallelize:ShutdownFinishTimeout"] = "00:00:00" });
        Switchboard board = host.Services.GetRequiredService<Switchboard>();
        board.Holds = static _ => true;
        using var abandon = new CancellationTokenSource();

        Task starting = host.StartAsync(abandon.Token);
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        await Timeouts.Until(() => pool.GetProgress().Accepted == 3, "the bounded queue is full"); // 1 running, 2 queued
        await abandon.CancelAsync();
        await starting.WaitAsync(Timeouts.Hang); // the host goes on; what was not queued is kept for the stop
        await host.StopAsync();
        board.Gate.Open();

        Assert.Equal(Enumerable.Range(1, 10), Assert.Single(store.Saves).Order());
        Assert.Empty(pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task StopAsync_NoStore_StopsThePoolAndDropsNothingSilently()
    {
        using IHost host = TestHost.Build(services => services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>());
        Switchboard board = host.Services.GetRequiredService<Switchboard>();
        board.Holds = static _ => true;

        await host.StartAsync();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        pool.Invoke(1);
        await board.Started.WaitForAsync(1);
        await host.StopAsync(new CancellationToken(canceled: true));

        ParallelizeProgress progress = pool.GetProgress();
        Assert.True(progress.IsStopped);
        Assert.Equal(1, progress.Aborted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task StopAsync_StoreThrows_TheHostsStopFailsWithItsException()
    {
        using IHost host = TestHost.Build(services =>
        {
            services.AddParallelize<int, int>().AddAsyncExecutor<EchoAsyncExecutor>().UseAbortedInputStore<ThrowingStore>();
        });

        await host.StartAsync();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => host.StopAsync());

        Assert.Contains("disk full", error.ToString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Dispose_HostThatNeverStopped_StopsThePoolAtOnceAndKeepsTheLastSaveWithTheNewlyAborted()
    {
        var store = new MemoryStore<int> { Saved = [100, 101] };
        IHost host = TestHost.Build(services => services.AddParallelize<int, int>()
            .AddAsyncExecutor<EchoAsyncExecutor>()
            .UseAbortedInputStore(_ => store));
        Switchboard board = host.Services.GetRequiredService<Switchboard>();
        board.Holds = static _ => true;
        board.IgnoreCancellation = true; // a hung call: the pool's own Dispose would wait for it forever

        // As a host whose start failed before this pool's hosted service started: resolved, fed, disposed.
        _ = host.Services.GetServices<IHostedService>().ToArray();
        Parallelize<int, int> pool = host.Services.GetRequiredService<Parallelize<int, int>>();
        pool.Invoke(1);
        pool.Invoke(2);
        await board.Started.WaitForAsync(1);
        await ((IAsyncDisposable)host).DisposeAsync().AsTask().WaitAsync(Timeouts.Hang);
        board.Gate.Open();

        Assert.Equal([100, 101, 1, 2], Assert.Single(store.Saves));
        Assert.Equal(1, store.Loads); // by the disposal: no start loaded it
        Assert.Throws<ObjectDisposedException>(() => pool.Invoke(3));
    }

    private sealed class ThrowingStore : IAbortedInputStore<int>
    {
        public ValueTask<IReadOnlyList<int>> LoadAsync(CancellationToken cancellationToken) => ValueTask.FromResult<IReadOnlyList<int>>([]);

        public ValueTask SaveAsync(IReadOnlyList<int> inputs, CancellationToken cancellationToken) => throw new IOException("disk full");
    }
}
