using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Parallelize.Signals;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Signals;

/// <summary>The signal helper's logic, with signals raised in-process through a fake host (the examples' tests send real ones).</summary>
public sealed class SignalStopTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Signal_WhileTheProgramWaits_StopsThePoolWaitReturnsAndStopHandsBackTheAbortedInputs()
    {
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(work.Run, count: 1);
        var host = new FakeSignalHost();
        using var stop = new SignalStop<int>(pool.Stop, new SignalStopOptions { FinishTimeout = TimeSpan.Zero }, host);
        var ledger = new Ledger<int>();
        for (int i = 1; i <= 5; i++)
        {
            ledger.Invoke(pool, i);
        }

        await work.Started.WaitForAsync(1);
        Task waiting = Task.Factory.StartNew(pool.Wait, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

        PosixSignalContext context = host.Raise(PosixSignal.SIGINT);
        await waiting.WaitAsync(Timeouts.Hang);
        IReadOnlyList<int> aborted = stop.Stop();
        work.Gate.Open();

        Assert.True(context.Cancel);
        Assert.Equal([1, 2, 3, 4, 5], aborted);
        Assert.Same(aborted, stop.Stop());
        Assert.Equal(PosixSignal.SIGINT, stop.Signal);
        Assert.Equal(130, stop.ExitCode);
        Assert.True(stop.Signalled.IsCancellationRequested);
        Assert.Empty(host.Exits);
        Assert.Throws<InvalidOperationException>(() => pool.Invoke(6));
        Conservation.AssertHolds(ledger.Accepted, pool, aborted);
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(PosixSignal.SIGHUP, 129)]
    [InlineData(PosixSignal.SIGINT, 130)]
    [InlineData(PosixSignal.SIGQUIT, 131)]
    [InlineData(PosixSignal.SIGTERM, 143)]
    public async Task Signal_Any_GivesTheConventionalExitCodeAndCancelsSignalledBeforeThePoolStops(PosixSignal signal, int exitCode)
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1);
        var host = new FakeSignalHost();
        var options = new SignalStopOptions { Signals = [PosixSignal.SIGHUP, PosixSignal.SIGINT, PosixSignal.SIGQUIT, PosixSignal.SIGTERM] };
        using var stop = new SignalStop<int>(pool.Stop, options, host);
        bool acceptedInCallback = false;
        using CancellationTokenRegistration callback = stop.Signalled.Register(() =>
        {
            pool.Invoke(1); // still accepted: the pool is stopped only after the token's callbacks ran
            acceptedInCallback = true;
        });

        host.Raise(signal);
        IReadOnlyList<int> aborted = await stop.StopAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(signal, stop.Signal);
        Assert.Equal(exitCode, stop.ExitCode);
        Assert.True(acceptedInCallback);
        Assert.Equal(1, pool.Results.Count + aborted.Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SecondSignal_WhileTheFirstStopRuns_ExitsAtOnceWithItsCode()
    {
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(work.Run, count: 1);
        var host = new FakeSignalHost();
        using var stop = new SignalStop<int>(pool.Stop, new SignalStopOptions { FinishTimeout = Timeout.InfiniteTimeSpan }, host);
        pool.Invoke(1);
        await work.Started.WaitForAsync(1);

        host.Raise(PosixSignal.SIGTERM);
        await Timeouts.Until(() => stop.Signalled.IsCancellationRequested, "the first signal's stop begins");
        PosixSignalContext second = host.Raise(PosixSignal.SIGINT);

        Assert.True(second.Cancel);
        Assert.Equal([130], host.Exits);
        Assert.Equal(143, stop.ExitCode); // the first signal's
        Task<IReadOnlyList<int>> stopping = stop.StopAsync();
        Assert.False(stopping.IsCompleted); // the call in flight has no finish limit
        work.Gate.Open();
        Assert.Empty(await stopping.WaitAsync(Timeouts.Hang));
        Assert.Equal([1], pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SecondSignal_WithExitOnSecondSignalOff_IsIgnored()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1);
        var host = new FakeSignalHost();
        using var stop = new SignalStop<int>(pool.Stop, new SignalStopOptions { ExitOnSecondSignal = false }, host);

        host.Raise(PosixSignal.SIGINT);
        PosixSignalContext second = host.Raise(PosixSignal.SIGINT);
        await stop.StopAsync().WaitAsync(Timeouts.Hang);

        Assert.True(second.Cancel);
        Assert.Empty(host.Exits);
        Assert.Equal(130, stop.ExitCode);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_WithoutASignal_StopsWithTheFinishTimeoutAndALaterSignalOnlyRecordsItself()
    {
        var work = new GatedFunction();
        using var pool = new Parallelize<int, int>(work.Run, count: 1);
        var host = new FakeSignalHost();
        using var stop = new SignalStop<int>(pool.Stop, new SignalStopOptions { FinishTimeout = TimeSpan.Zero }, host);
        var ledger = new Ledger<int>();
        ledger.Invoke(pool, 1);
        ledger.Invoke(pool, 2);
        await work.Started.WaitForAsync(1);

        IReadOnlyList<int> aborted = stop.Stop();
        work.Gate.Open();

        Assert.Equal([1, 2], aborted);
        Assert.Null(stop.Signal);
        Assert.Equal(0, stop.ExitCode);
        Assert.False(stop.Signalled.IsCancellationRequested);

        host.Raise(PosixSignal.SIGTERM);
        await Timeouts.Until(() => stop.Signalled.IsCancellationRequested, "the late signal is recorded");
        Assert.Equal(143, stop.ExitCode);
        Assert.Same(aborted, await stop.StopAsync());
        Conservation.AssertHolds(ledger.Accepted, pool, aborted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_AfterACompletedWait_ReturnsEmptyAndConcurrentStopsShareOneList()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 2);
        using var stop = new SignalStop<int>(pool.Stop, new SignalStopOptions(), new FakeSignalHost());
        pool.Invoke(1);
        await pool.WaitAsync();

        IReadOnlyList<int>[] lists = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(stop.Stop)));

        Assert.All(lists, list => Assert.Same(lists[0], list));
        Assert.Empty(lists[0]);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Signal_CallbackOnSignalledThrows_ThePoolIsStoppedAnyway()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1);
        var host = new FakeSignalHost();
        using var stop = new SignalStop<int>(pool.Stop, new SignalStopOptions(), host);
        using CancellationTokenRegistration callback = stop.Signalled.Register(() => throw new InvalidOperationException("a careless callback"));

        host.Raise(PosixSignal.SIGINT);
        await stop.StopAsync().WaitAsync(Timeouts.Hang);

        Assert.Throws<InvalidOperationException>(() => pool.Invoke(1));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_PoolStopThrows_EveryCallerGetsTheException()
    {
        using var stop = new SignalStop<int>(_ => throw new InvalidOperationException("cannot stop"), new SignalStopOptions(), new FakeSignalHost());

        Assert.Equal("cannot stop", Assert.Throws<InvalidOperationException>(() => stop.Stop()).Message);
        Assert.Equal("cannot stop", (await Assert.ThrowsAsync<InvalidOperationException>(() => stop.StopAsync())).Message);
    }

    [Fact]
    public void Dispose_UnregistersEveryHandlerOnce()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1);
        var host = new FakeSignalHost();
        var stop = new SignalStop<int>(pool.Stop, new SignalStopOptions(), host);
        Assert.Equal([PosixSignal.SIGTERM, PosixSignal.SIGINT], host.Registered.Order()); // enum order: SIGTERM is -4, SIGINT -2

        stop.Dispose();
        stop.Dispose();

        Assert.Empty(host.Registered);
        Assert.Equal(2, host.Unregistrations);
    }

    [Fact]
    public void Constructor_ARegistrationFails_UnregistersTheOthersAndThrows()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1);
        var host = new FakeSignalHost { Refuse = PosixSignal.SIGTERM };

        Assert.Throws<PlatformNotSupportedException>(() => new SignalStop<int>(pool.Stop, new SignalStopOptions(), host));

        Assert.Empty(host.Registered);
    }

    [Fact]
    public void StopOnSignals_ThisProcess_RegistersRealHandlersAndDisposeRemovesThem()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1);

        using (SignalStop<int> stop = pool.StopOnSignals(TimeSpan.FromSeconds(1)))
        {
            Assert.Null(stop.Signal);
        }

        using SignalStop<int> again = pool.StopOnSignals(new SignalStopOptions { Signals = [PosixSignal.SIGHUP] });
        Assert.Empty(again.Stop());
    }

    [Fact]
    public void StopOnSignals_BadArguments_ThrowNamingThem()
    {
        using var pool = new Parallelize<int, int>(x => x, count: 1);

        Assert.Equal("pool", Assert.Throws<ArgumentNullException>(() => SignalStop.StopOnSignals((Parallelize<int, int>)null!, TimeSpan.Zero)).ParamName);
        Assert.Equal("pool", Assert.Throws<ArgumentNullException>(() => SignalStop.StopOnSignals((Parallelize<int, int>)null!)).ParamName);
        Assert.Equal("finishTimeout", Assert.Throws<ArgumentOutOfRangeException>(() => pool.StopOnSignals(TimeSpan.FromSeconds(-1))).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => SignalStop.ExitCodeOf((PosixSignal)10));
    }

    [Fact]
    public void Options_Defaults_AreTheDocumentedValues()
    {
        var options = new SignalStopOptions();

        Assert.Equal(TimeSpan.FromSeconds(5), options.FinishTimeout);
        Assert.Equal([PosixSignal.SIGINT, PosixSignal.SIGTERM], options.Signals);
        Assert.True(options.ExitOnSecondSignal);
        Assert.Null((options with { FinishTimeout = null }).FinishTimeout);
        Assert.Equal(Timeout.InfiniteTimeSpan, (options with { FinishTimeout = Timeout.InfiniteTimeSpan }).FinishTimeout);
    }

    [Fact]
    public void Options_InvalidValues_ThrowNamingTheProperty()
    {
        Assert.Equal("FinishTimeout", Assert.Throws<ArgumentOutOfRangeException>(() => new SignalStopOptions { FinishTimeout = TimeSpan.FromMilliseconds(-5) }).ParamName);
        Assert.Equal("Signals", Assert.Throws<ArgumentNullException>(() => new SignalStopOptions { Signals = null! }).ParamName);
        Assert.Equal("Signals", Assert.Throws<ArgumentException>(() => new SignalStopOptions { Signals = [] }).ParamName);
        var other = Assert.Throws<ArgumentException>(() => new SignalStopOptions { Signals = [PosixSignal.SIGINT, (PosixSignal)10] });
        Assert.Equal("Signals", other.ParamName);
        Assert.Contains("not 10", other.Message, StringComparison.Ordinal);
    }

    /// <summary>Signals raised by the test, exits recorded instead of taken.</summary>
    private sealed class FakeSignalHost : ISignalHost
    {
        private readonly ConcurrentDictionary<PosixSignal, Action<PosixSignalContext>> _handlers = new();
        private int _unregistrations;

        public PosixSignal? Refuse { get; init; }

        public ConcurrentQueue<int> Exits { get; } = new();

        public ICollection<PosixSignal> Registered => _handlers.Keys;

        public int Unregistrations => _unregistrations;

        public IDisposable Register(PosixSignal signal, Action<PosixSignalContext> handler)
        {
            if (signal == Refuse)
            {
                throw new PlatformNotSupportedException($"{signal} is not supported here.");
            }

            Assert.True(_handlers.TryAdd(signal, handler));
            return new Registration(() =>
            {
                _handlers.TryRemove(signal, out _);
                Interlocked.Increment(ref _unregistrations);
            });
        }

        public void Exit(int exitCode) => Exits.Enqueue(exitCode);

        /// <summary>Delivers a signal the way the runtime does: the handler runs, then the context says whether it was handled.</summary>
        public PosixSignalContext Raise(PosixSignal signal)
        {
            var context = new PosixSignalContext(signal);
            _handlers[signal](context);
            return context;
        }

        private sealed class Registration(Action dispose) : IDisposable
        {
            public void Dispose() => dispose();
        }
    }
}
