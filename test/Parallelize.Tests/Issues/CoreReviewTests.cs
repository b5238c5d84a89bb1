using System.Reflection;
using Microsoft.Extensions.Logging;
using Parallelize.Core;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Issues;

/// <summary>Regressions found by a review of the lease-based core: each failed before its fix.</summary>
public sealed class CoreReviewTests
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Probe_ThatFailsWithAnExceptionNotWorthRetrying_DoesNotLeaveThePoolPausedForever()
    {
        var clock = new ManualTimeProvider();
        int attempts = 0;
        var options = new ParallelizeOptions { TimeProvider = clock, RetryDelay = TimeSpan.Zero, MaxAttempts = 5, Outages = TinyWindow() };
        var pool = new Parallelize<int, int>(
            x =>
            {
                if (x != 1)
                {
                    return x;
                }

                int n = Interlocked.Increment(ref attempts);
                throw n <= 2 ? new IOException("service down") : new ArgumentException("bad input"); // the third attempt is the probe
            },
            1,
            options);
        try
        {
            pool.Invoke(1);
            await Timeouts.Until(() => pool.GetProgress() is { IsPaused: true, Running: 0 }, "the outage pauses the pool");
            clock.Advance(TimeSpan.FromMilliseconds(200));
            await Timeouts.Until(() => pool.Failures.Count == 1, "the probe ends in Failures");
            pool.Invoke(2);
            await ClockDriver.AdvanceUntilAsync(clock, pool.WaitAsync(), TimeSpan.FromMilliseconds(100));

            Assert.Equal([2], pool.Results);
        }
        finally
        {
            pool.Stop(TimeSpan.Zero);
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ProbeAllowed_WhileEveryCallWaitsForItsRetry_IsTakenWhenTheRetryComes()
    {
        var clock = new ManualTimeProvider();
        int attempts = 0;
        var options = new ParallelizeOptions
        {
            TimeProvider = clock,
            RetryDelay = TimeSpan.FromSeconds(1),
            MaxRetryDelay = TimeSpan.FromSeconds(10),
            MaxAttempts = 5,
            Outages = TinyWindow(),
        };
        var pool = new Parallelize<int, int>(x => Interlocked.Increment(ref attempts) <= 2 ? throw new IOException("down") : x, 1, options);
        try
        {
            pool.Invoke(1);
            await Timeouts.Until(() => Volatile.Read(ref attempts) == 1 && pool.GetProgress() is { Running: 0, Queued: 1 }, "attempt 1 waits in the scheduler");
            clock.Advance(TimeSpan.FromSeconds(1)); // attempt 2 fails: the outage opens; its retry waits 1 to 2 s
            await Timeouts.Until(() => pool.GetProgress() is { IsPaused: true, Running: 0, Queued: 1 }, "paused, with the retry in the scheduler");
            await Timeouts.Until(() => IdleRunners(pool.Queue) == 1, "the runner parks");
            clock.Advance(TimeSpan.FromMilliseconds(150)); // a probe is allowed while nothing is queued
            clock.Advance(TimeSpan.FromSeconds(2)); // the retry comes into the paused queue

            Assert.True(await Task.Run(() => pool.Wait(Timeouts.Hang)), "the retry sat in the paused queue with the runner parked");
            Assert.Equal([1], pool.Results);
        }
        finally
        {
            pool.Stop(TimeSpan.Zero);
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task RunnerKeptFromARetry_ParksInsteadOfSpinning()
    {
        var gate = new Gate();
        var started = new Arrivals();
        int failedOn = -1;
        Func<int, int> Make(int executor) => x =>
        {
            if (x == 100)
            {
                started.Arrive();
                gate.Pass();
                return x;
            }

            return Interlocked.CompareExchange(ref failedOn, executor, -1) == -1 ? throw new IOException("fails on its first executor") : x;
        };
        var pool = new Parallelize<int, int>([Make(0), Make(1)], new ParallelizeOptions { RetryDelay = TimeSpan.Zero, Outages = null });
        try
        {
            pool.Invoke(100);
            await started.WaitForAsync(1);
            pool.Invoke(1); // its retry is kept firmly from the free executor while the other one is busy

            await Timeouts.Until(() => pool.Queue.RetriesQueued == 1, "the retry waits");
            await Timeouts.Until(() => IdleRunners(pool.Queue) == 1, "the free runner parks");
        }
        finally
        {
            gate.Open();
            pool.Stop(TimeSpan.Zero);
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task OutageEndedLog_NeverRunsUnderALeaseLock_AndALoggerThatThrowsCannotHangStop()
    {
        var clock = new ManualTimeProvider();
        int attempts = 0;
        bool? held = null;
        var logged = new Gate();
        Parallelize<int, int>? pool = null;
        var options = new ParallelizeOptions
        {
            TimeProvider = clock,
            RetryDelay = TimeSpan.Zero,
            MaxAttempts = 5,
            Outages = TinyWindow(),
            Logger = new HookLogger(id =>
            {
                if (id.Name == "OutageEnded")
                {
                    held = LeaseLock(pool!, 0).IsHeldByCurrentThread;
                    logged.Open();
                    throw new InvalidOperationException("logger bug");
                }
            }),
        };
        pool = new Parallelize<int, int>(x => Interlocked.Increment(ref attempts) <= 2 ? throw new IOException("down") : x, 1, options);
        pool.Invoke(1);
        await Timeouts.Until(() => pool.GetProgress() is { IsPaused: true, Running: 0 }, "paused");
        clock.Advance(TimeSpan.FromMilliseconds(200)); // the probe succeeds: the outage ends
        await logged.PassAsync().WaitAsync(Timeouts.Hang);

        Task stop = Task.Run(() => pool.Stop(TimeSpan.Zero));
        Assert.True(await Task.WhenAny(stop, Task.Delay(Timeouts.Hang)) == stop, $"Stop hangs with {pool.Queue.InFlight} call(s) in flight");
        Assert.False(held, "the logger ran while this thread held the lease lock");
        Assert.Equal([1], pool.Results);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task LateSlotReport_IsNeverTakenForACallOfTheNextLease()
    {
        LeaseHandle<int, int>? firstLease = null;
        var secondStarted = new Gate();
        var release = new Gate();
        int leases = 0;
        var slot = new ScriptedSlot(async (lease, self) =>
        {
            int n = Interlocked.Increment(ref leases);
            Assert.True(lease.TryRead(0, out int input, out _));
            lease.MarkSent(0);
            if (n == 1)
            {
                firstLease = lease;
                lease.TryComplete(0, input * 10);
                return;
            }

            secondStarted.Open();
            await release.PassAsync();
            lease.TryComplete(0, input * 10);
        });
        var pool = new Parallelize<int, int>([Executor<int, int>.InSlot((_, _) => ValueTask.FromResult<IExecutorSlot<int, int>>(slot))]);
        try
        {
            pool.Invoke(1);
            await Timeouts.Until(() => pool.Results.Count == 1, "input 1 done");
            pool.Invoke(2);
            await secondStarted.PassAsync().WaitAsync(Timeouts.Hang);
            bool lateAccepted = firstLease!.Value.TryComplete(0, -1); // a late (or second) report for lease 1
            release.Open();

            Assert.True(await Task.Run(() => pool.Wait(Timeouts.Hang)));
            Assert.False(lateAccepted, "the late report of lease 1 was taken by lease 2");
            Assert.Equal([10, 20], pool.Results.Order());
            Assert.Equal(1, pool.LateOutcomes);
        }
        finally
        {
            pool.Stop(TimeSpan.Zero);
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SlotLostBeforeSendingAnything_IsBlamedSoTheBudgetRetiresIt()
    {
        var options = new ParallelizeOptions { MaxRestarts = 1, RestartBackoff = TimeSpan.Zero, MaxRestartBackoff = TimeSpan.Zero, Outages = null };
        var pool = new Parallelize<int, int>(
            [Executor<int, int>.InSlot((_, _) => ValueTask.FromResult<IExecutorSlot<int, int>>(new ScriptedSlot((lease, self) =>
            {
                self.LostSource.TrySetResult(new IOException("worker process died at start"));
                return ValueTask.CompletedTask;
            })))],
            options);
        try
        {
            pool.Invoke(1);
            await Timeouts.Until(() => pool.Restarts >= 50 || pool.GetProgress().IsFaulted, "restarts pile up or the pool faults");

            Assert.True(pool.GetProgress().IsFaulted, $"{pool.Restarts} restarts with MaxRestarts = 1, executor still live");
            Assert.Equal([1], pool.Stop());
        }
        finally
        {
            pool.Stop(TimeSpan.Zero);
        }
    }

    private static OutageOptions TinyWindow() => new()
    {
        Window = 2,
        FailureRatio = 1,
        MinimumDistinctInputs = 1,
        ProbeDelay = TimeSpan.FromMilliseconds(100),
        MaxProbeDelay = TimeSpan.FromMilliseconds(100),
        MaxDuration = TimeSpan.FromSeconds(1),
    };

    private static int IdleRunners<TIn>(WorkQueue<TIn> queue) =>
        ((System.Collections.ICollection)typeof(WorkQueue<TIn>).GetField("_idle", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(queue)!).Count;

    private static Lock LeaseLock(Parallelize<int, int> pool, int runner) =>
        (Lock)typeof(CallLease<int, int>).GetField("_lock", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(pool.Runners[runner].Lease)!;

    private sealed class HookLogger(Action<EventId> onLog) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) => onLog(eventId);
    }

    private sealed class ScriptedSlot(Func<LeaseHandle<int, int>, ScriptedSlot, ValueTask> run) : IExecutorSlot<int, int>
    {
        public TaskCompletionSource<Exception> LostSource { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Location => "scripted";

        public int MaxLease => 1;

        public Task<Exception> Lost => LostSource.Task;

        public ValueTask RunAsync(LeaseHandle<int, int> lease, CancellationToken cancellationToken) => run(lease, this);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
