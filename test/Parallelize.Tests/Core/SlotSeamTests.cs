using Parallelize.Core;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Core;

/// <summary>
/// The executor slot seam as a worker process or a cluster node uses it: lease sizing on a slow transport, where a
/// sent call ends when the pool stops, and what a slot's failure report asks of the runner.
/// </summary>
public sealed class SlotSeamTests
{
    private static readonly TimeSpan SlowRoundTrip = TimeSpan.FromMilliseconds(15);

    [Fact(Timeout = Timeouts.Test)]
    public async Task SlowTransport_WithoutARunTimeReport_SendsOneCallALease()
    {
        // A round trip longer than the slow-lease bound (10 ms) keeps leases at one call: the control for the next test.
        List<int> leases = await RunLeasesAsync(calls: 8, reportRunTime: false);

        Assert.Equal(Enumerable.Repeat(1, 8), leases);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SlowTransport_ThatReportsItsCallsRunTime_GetsLeasesGrowingToTheSlotsLimit()
    {
        List<int> leases = await RunLeasesAsync(calls: 1_000, reportRunTime: true);

        // Doubling from one call, on the reported run time (1 µs a lease), whatever the round trip.
        Assert.Equal([1, 2, 4, 8, 16, 32, 64], leases.Take(7));
        Assert.True(leases.Count <= 7 + ((1_000 - 127 + 63) / 64), $"{leases.Count} leases for 1,000 calls");
        Assert.Equal(1_000, leases.Sum());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SentCallLostAfterStopClosedTheQueue_IsAbortedAsOutcomeUnknown()
    {
        var sent = new Gate();
        Parallelize<int, int>? pool = null;
        var slot = new ScriptedSlot(1, (lease, self, token) =>
        {
            MarkFirstSent(lease);
            sent.Open();

            // The node is lost during Stop's finish period, after the queue closed: the call may have run there.
            pool!.StopToken.Register(() =>
            {
                var lost = new ExecutorLostException("node left");
                lease.TryFail(0, lost, FailureKind.Lost);
                self.LostSource.TrySetResult(lost);
            });
            return new ValueTask(self.LostSource.Task);
        });
        pool = PoolOf(slot);
        pool.Invoke(7);
        await sent.PassAsync().WaitAsync(Timeouts.Hang);

        IReadOnlyList<int> aborted = await Task.Run(() => pool.Stop(Timeouts.Hang));

        Assert.Equal([7], aborted);
        Assert.Equal([7], pool.AbortedWhileRunning);
        Assert.Empty(pool.Results);
        Assert.Empty(pool.Failures);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SlotThatReturnsAfterStopCancelledItsCalls_LeavesTheSentCallAbortedAsOutcomeUnknown()
    {
        var sent = new Gate();
        var slot = new ScriptedSlot(2, async (lease, self, token) =>
        {
            MarkFirstSent(lease);
            sent.Open();

            // Returns without reporting once Stop gives up: the call was sent, so its outcome is unknown, whether
            // Stop's abandon or the runner's end of the lease comes first.
            await Task.Delay(Timeout.Infinite, token).ContinueWith(static _ => { }, TaskScheduler.Default);
        });
        var pool = PoolOf(slot);
        await StopWithTheFirstOfTwoCallsSentAsync(pool, sent);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SlotResumedInsideStopsCancel_ItsSentCallIsAbortedWithoutBlamingOrRetiringTheExecutor()
    {
        // The slot's wait ends inside Stop's Cancel (a continuation run inline, as an Orleans reply's linked token does),
        // so the runner ends the lease before Stop's own abandon: it must abandon it too, not take the sent call back as
        // its executor's loss — which would blame, and with one executor and no restart budget, retire it mid-stop.
        var sent = new Gate();
        var slot = new ScriptedSlot(1, async (lease, self, token) =>
        {
            MarkFirstSent(lease);
            var cancelled = new TaskCompletionSource();
            using (token.Register(() => cancelled.SetResult()))
            {
                sent.Open();
                await cancelled.Task;
            }
        });
        var pool = new Parallelize<int, int>(
            InSlot(slot),
            new ParallelizeOptions { MaxRestarts = 0 });
        await StopWithTheFirstOfTwoCallsSentAsync(pool, sent);
        ParallelizeProgress progress = pool.GetProgress();
        Assert.Equal((0L, 0, false), (progress.Restarted, progress.RetiredExecutors, progress.IsFaulted));
        Assert.Equal(0, pool.Restarts);
        await pool.DisposeAsync();
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task SlotFailureThatAsksForARestart_RestartsTheSlot(bool crashed, bool restartOnEveryFault)
    {
        FailureKind kind = crashed ? FailureKind.Crashed : FailureKind.Threw;
        int created = 0;
        var options = new ParallelizeOptions
        {
            MaxAttempts = 1,
            RestartBackoff = TimeSpan.Zero,
            MaxRestartBackoff = TimeSpan.Zero,
            RestartOnEveryFault = restartOnEveryFault,
            Outages = null,
        };
        var pool = new Parallelize<int, int>(
            [Executor<int, int>.InSlot((_, _) =>
            {
                Interlocked.Increment(ref created);
                return ValueTask.FromResult<IExecutorSlot<int, int>>(new ScriptedSlot(1, (lease, _, _) =>
                {
                    Assert.True(lease.TryRead(0, out int input, out _));
                    Assert.True(lease.MarkSent(0));
                    Assert.Equal(FaultAction.Restart, lease.TryFail(0, new IOException($"input {input} broke it"), kind));
                    return ValueTask.CompletedTask;
                }));
            })],
            options);
        try
        {
            pool.Invoke(1);
            await pool.WaitAsync().WaitAsync(Timeouts.Hang);
            await Timeouts.Until(() => Volatile.Read(ref created) == 2, "the slot is created again");

            Assert.Equal(1, pool.Restarts);
            Assert.Equal([1], pool.Failures.Select(static f => f.Input));
        }
        finally
        {
            pool.Stop(TimeSpan.Zero);
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SlotFailureOfTheInput_DoesNotRestartTheSlot()
    {
        int created = 0;
        var pool = new Parallelize<int, int>(
            [Executor<int, int>.InSlot((_, _) =>
            {
                Interlocked.Increment(ref created);
                return ValueTask.FromResult<IExecutorSlot<int, int>>(new ScriptedSlot(1, (lease, _, _) =>
                {
                    Assert.True(lease.TryRead(0, out int input, out _));
                    Assert.True(lease.MarkSent(0));
                    if (input == 1)
                    {
                        Assert.Equal(FaultAction.None, lease.TryFail(0, new FormatException("bad row"), FailureKind.Threw));
                    }
                    else
                    {
                        Assert.True(lease.TryComplete(0, input));
                    }

                    return ValueTask.CompletedTask;
                }));
            })],
            new ParallelizeOptions { MaxAttempts = 3, Outages = null });
        try
        {
            pool.Invoke(1);
            pool.Invoke(2);
            await pool.WaitAsync().WaitAsync(Timeouts.Hang);

            Assert.Equal(1, Volatile.Read(ref created));
            Assert.Equal(0, pool.Restarts);
            Assert.Equal([1], pool.Failures.Select(static f => f.Input));
            Assert.Equal([2], pool.Results);
        }
        finally
        {
            pool.Stop(TimeSpan.Zero);
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task RunnerLocation_IsReadFromTheSlotLive()
    {
        var slot = new ScriptedSlot(1, (lease, _, _) =>
        {
            Assert.True(lease.TryRead(0, out int input, out _));
            Assert.True(lease.TryComplete(0, input));
            return ValueTask.CompletedTask;
        });
        slot.Where = "silo A";
        var pool = PoolOf(slot);
        try
        {
            await pool.GetExecutorsAsync().WaitAsync(Timeouts.Hang);
            Assert.Equal("silo A", pool.Runners[0].Location);

            slot.Where = "silo B"; // the executor moved
            Assert.Equal("silo B", pool.Runners[0].Location);
        }
        finally
        {
            pool.Stop(TimeSpan.Zero);
        }
    }

    /// <summary>Queues every call before the one slot exists, then returns the size of each lease it ran.</summary>
    private static async Task<List<int>> RunLeasesAsync(int calls, bool reportRunTime)
    {
        var leases = new List<int>();
        var create = new Gate();
        var slot = new ScriptedSlot(64, async (lease, self, token) =>
        {
            lock (leases)
            {
                leases.Add(lease.Count);
            }

            // The round trip: at least this long (the bound only matters from below).
            await Task.Delay(SlowRoundTrip, CancellationToken.None);
            for (int i = 0; i < lease.Count; i++)
            {
                Assert.True(lease.TryRead(i, out int input, out _));
                Assert.True(lease.MarkSent(i));
                Assert.True(lease.TryComplete(i, input));
            }

            if (reportRunTime)
            {
                lease.ReportRunTime(TimeSpan.FromTicks(10));
            }
        });
        var pool = new Parallelize<int, int>(
            [Executor<int, int>.InSlot(async (_, _) =>
            {
                await create.PassAsync(CancellationToken.None);
                return slot;
            })]);
        try
        {
            for (int i = 0; i < calls; i++)
            {
                pool.Invoke(i);
            }

            create.Open();
            await pool.WaitAsync().WaitAsync(Timeouts.Hang);
            Assert.Equal(Enumerable.Range(0, calls), pool.Results.Order());
            lock (leases)
            {
                return [.. leases];
            }
        }
        finally
        {
            pool.Stop(TimeSpan.Zero);
        }
    }

    /// <summary>The one executor of a pool, running in <paramref name="slot"/>.</summary>
    private static Executor<int, int>[] InSlot(ScriptedSlot slot) =>
        [Executor<int, int>.InSlot((_, _) => ValueTask.FromResult<IExecutorSlot<int, int>>(slot))];

    private static Parallelize<int, int> PoolOf(ScriptedSlot slot) => new(InSlot(slot));

    /// <summary>The slot sends the lease's first call: from here on, if taken back, it may have run.</summary>
    /// <summary>
    /// Queues calls 1 and 2, waits until the slot has sent call 1, and stops at once: both are aborted, call 1 as one
    /// whose outcome is unknown.
    /// </summary>
    private static async Task StopWithTheFirstOfTwoCallsSentAsync(Parallelize<int, int> pool, Gate sent)
    {
        pool.Invoke(1);
        pool.Invoke(2);
        await sent.PassAsync().WaitAsync(Timeouts.Hang);

        IReadOnlyList<int> aborted = await Task.Run(() => pool.Stop(TimeSpan.Zero));

        Assert.Equal([1, 2], aborted.Order());
        Assert.Equal([1], pool.AbortedWhileRunning);
    }

    private static void MarkFirstSent(LeaseHandle<int, int> lease)
    {
        Assert.True(lease.TryRead(0, out _, out _));
        Assert.True(lease.MarkSent(0));
    }

    private sealed class ScriptedSlot(int maxLease, Func<LeaseHandle<int, int>, ScriptedSlot, CancellationToken, ValueTask> run) : IExecutorSlot<int, int>
    {
        private volatile string _where = "scripted";

        public TaskCompletionSource<Exception> LostSource { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Where
        {
            get => _where;
            set => _where = value;
        }

        public string Location => _where;

        public int MaxLease => maxLease;

        public Task<Exception> Lost => LostSource.Task;

        public ValueTask RunAsync(LeaseHandle<int, int> lease, CancellationToken cancellationToken) => run(lease, this, cancellationToken);

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
