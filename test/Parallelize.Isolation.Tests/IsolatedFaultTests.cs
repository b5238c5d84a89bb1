using Parallelize.Isolation.Tests.Support;
using Parallelize.Isolation.Tests.Workers;

namespace Parallelize.Isolation.Tests;

/// <summary>
/// One test per way a worker process can fail. Each checks that every input ended in exactly one place, and where
/// each one ended. Nothing waits on time: a worker that must be caught mid-call writes a file when it gets there, and
/// deadlines run on a manual clock.
/// </summary>
public sealed class IsolatedFaultTests : IsolationTest
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task KillNine_MidCall_CallFailsWithSigkillAndInputSucceedsOnANewWorker()
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(1);
        using var owned = pool;
        var victim = new Job(1, "block", Once: PathFor("once"), Ready: PathFor("ready"));
        Job[] others = [.. Enumerable.Range(2, 5).Select(i => new Job(i))];

        pool.Invoke(victim);
        int pid = Pid(await WaitForFileAsync(PathFor("ready")));
        foreach (Job job in others)
        {
            pool.Invoke(job);
        }

        Native.Kill(pid, 9);
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved([victim, .. others], pool, []);
        Assert.Empty(pool.Failures);
        Reply retried = Assert.Single(pool.Results, r => r.Id == 1);
        Assert.NotEqual(pid, retried.Pid);
        Assert.Equal(1, workers.Crashes);
        Assert.Equal(2, workers.ProcessesStarted);
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData("failfast", "fail fast on input 1")]
    [InlineData("stackoverflow", "Stack overflow")]
    [InlineData("bgthrow", "background boom on input 1")]
    public async Task ProcessCrash_EveryAttempt_InputEndsInFailuresWithExitCodeSignalAndStandardError(string action, string inStandardError)
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(2, options: new ParallelizeOptions { MaxAttempts = 2 });
        using var owned = pool;
        var poison = new Job(1, action);
        Job[] good = [.. Enumerable.Range(2, 20).Select(i => new Job(i))];

        pool.Invoke(poison);
        foreach (Job job in good)
        {
            pool.Invoke(job);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved([poison, .. good], pool, []);
        Failure<Job> failure = Assert.Single(pool.Failures);
        Assert.Equal(poison, failure.Input);
        Assert.Equal(2, failure.Attempts);
        Assert.All(failure.Exceptions, e =>
        {
            WorkerCrashedException crash = Assert.IsType<WorkerCrashedException>(e);
            Assert.Equal(WorkerExitReason.Crashed, crash.Reason);
            Assert.Equal(134, crash.ExitCode); // 128 + SIGABRT: how .NET ends a process that fails fast
            Assert.Equal(6, crash.Signal);
            Assert.Equal("SIGABRT", crash.SignalName);
            Assert.Contains(inStandardError, crash.StandardErrorTail, StringComparison.Ordinal);
            Assert.Contains("while running a call", crash.Message, StringComparison.Ordinal);
        });
        Assert.Equal(good.Select(j => j.Id).Order(), pool.Results.Select(r => r.Id).Order());
        Assert.Equal(2, workers.Crashes);
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData("block")]
    [InlineData("spin")]
    [InlineData("sigstop")]
    public async Task HangingWorker_PastCallTimeout_IsKilledAndRestartedAndTheInputRetried(string action)
    {
        var clock = new ManualTimeProvider();
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(
            1,
            new IsolationOptions { CallTimeout = TimeSpan.FromSeconds(5), TimeProvider = clock });
        using var owned = pool;
        var hung = new Job(1, action, Once: PathFor("once"), Ready: PathFor("ready"));

        pool.Invoke(hung);
        int pid = Pid(await WaitForFileAsync(PathFor("ready")));
        clock.Advance(TimeSpan.FromSeconds(5));
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved([hung], pool, []);
        Reply reply = Assert.Single(pool.Results);
        Assert.NotEqual(pid, reply.Pid);
        Assert.False(ProcessState.IsRunning(pid));
        Assert.Equal(1, workers.CallTimeouts);
        Assert.Equal(1, workers.Crashes);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task HangingWorker_EveryAttempt_FailsWithCallTimeoutCarryingATimeoutException()
    {
        var clock = new ManualTimeProvider();
        (Parallelize<Job, Reply> pool, _) = CreatePool(
            1,
            new IsolationOptions { CallTimeout = TimeSpan.FromSeconds(5), TimeProvider = clock },
            new ParallelizeOptions { MaxAttempts = 1 });
        using var owned = pool;
        var hung = new Job(1, "block", Ready: PathFor("ready"));

        pool.Invoke(hung);
        await WaitForFileAsync(PathFor("ready"));
        clock.Advance(TimeSpan.FromSeconds(5));
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved([hung], pool, []);
        WorkerCrashedException crash = Assert.IsType<WorkerCrashedException>(Assert.Single(Assert.Single(pool.Failures).Exceptions));
        Assert.Equal(WorkerExitReason.CallTimeout, crash.Reason);
        Assert.IsType<TimeoutException>(crash.InnerException);
        Assert.Equal(9, crash.Signal);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Factory_ThrowsOnce_IsRetriedInTheSameProcessAndEveryInputSucceeds()
    {
        IsolatedExecutors<Job, Reply> workers = Isolated.Create<Setup, Job, Reply>(1, ScriptedExecutor.FromSetup, new Setup("throw", Once: PathFor("once")));
        using var pool = new Parallelize<Job, Reply>(workers);
        Job[] jobs = [.. Enumerable.Range(1, 5).Select(i => new Job(i))];

        foreach (Job job in jobs)
        {
            pool.Invoke(job);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved(jobs, pool, []);
        Assert.Equal(1, pool.Restarts);
        Assert.Equal(1, workers.ProcessesStarted); // the process stayed up; only the executor was created again
        Assert.Equal(0, workers.Crashes);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Factory_AlwaysThrows_PoolFaultsWithTheRemoteExceptionAndStopAbortsEveryInput()
    {
        IsolatedExecutors<Job, Reply> workers = Isolated.Create<Setup, Job, Reply>(1, ScriptedExecutor.FromSetup, new Setup("throw"));
        using var pool = new Parallelize<Job, Reply>(workers, new ParallelizeOptions { MaxRestarts = 2, RestartBackoff = TimeSpan.FromMilliseconds(1) });
        Job[] jobs = [.. Enumerable.Range(1, 3).Select(i => new Job(i))];
        foreach (Job job in jobs)
        {
            pool.Invoke(job);
        }

        ParallelizeException fault = await Assert.ThrowsAsync<ParallelizeException>(() => pool.WaitAsync().WaitAsync(Timeouts.Hang));
        IReadOnlyList<Job> aborted = pool.Stop();

        AssertConserved(jobs, pool, aborted);
        Assert.Equal(jobs, aborted);
        RemoteExecutorException remote = Assert.IsType<RemoteExecutorException>(fault.InnerExceptions[0]);
        Assert.Equal("System.InvalidOperationException", remote.RemoteType);
        Assert.Equal("the factory refuses", remote.RemoteMessage);
        Assert.Contains(nameof(ScriptedExecutor.FromSetup), remote.RemoteStackTrace, StringComparison.Ordinal);
        await Timeouts.Until(() => workers.GetProcessIds().Count == 0, "no worker is left");
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Factory_CrashesOnce_ANewProcessIsStartedAndEveryInputSucceeds()
    {
        IsolatedExecutors<Job, Reply> workers = Isolated.Create<Setup, Job, Reply>(1, ScriptedExecutor.FromSetup, new Setup("failfast", Once: PathFor("once")));
        using var pool = new Parallelize<Job, Reply>(workers);
        Job[] jobs = [.. Enumerable.Range(1, 5).Select(i => new Job(i))];

        foreach (Job job in jobs)
        {
            pool.Invoke(job);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved(jobs, pool, []);
        Assert.Equal(2, workers.ProcessesStarted);
        Assert.Equal(1, workers.Crashes);
        Assert.Equal(1, pool.Restarts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Factory_HangsOnce_IsKilledAtStartTimeoutAndEveryInputSucceeds()
    {
        var clock = new ManualTimeProvider();
        IsolatedExecutors<Job, Reply> workers = Isolated.Create<Setup, Job, Reply>(
            1,
            ScriptedExecutor.FromSetup,
            new Setup("hang", Once: PathFor("once"), Ready: PathFor("ready")),
            new IsolationOptions { StartTimeout = TimeSpan.FromSeconds(30), TimeProvider = clock });
        using var pool = new Parallelize<Job, Reply>(workers);
        Job[] jobs = [.. Enumerable.Range(1, 5).Select(i => new Job(i))];
        foreach (Job job in jobs)
        {
            pool.Invoke(job);
        }

        int pid = Pid(await WaitForFileAsync(PathFor("ready")));
        clock.Advance(TimeSpan.FromSeconds(30));
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved(jobs, pool, []);
        Assert.All(pool.Results, r => Assert.NotEqual(pid, r.Pid));
        Assert.Equal(1, workers.Crashes);
        Assert.Equal(1, pool.Restarts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task WorkerDiesWhileWritingItsResult_InputIsRetriedAndCountedOnce()
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(
            1,
            new IsolationOptions { Environment = new Dictionary<string, string?> { ["PARALLELIZE_WORKER_FAULT"] = "tear-result-once:" + PathFor("torn") } });
        using var owned = pool;
        Job[] jobs = [.. Enumerable.Range(1, 5).Select(i => new Job(i))];

        foreach (Job job in jobs)
        {
            pool.Invoke(job);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved(jobs, pool, []);
        Assert.True(File.Exists(PathFor("torn")));
        Assert.Equal(1, workers.Crashes);
        Assert.Equal(2, workers.ProcessesStarted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task WorkerDiesJustAfterACompleteResult_ResultCountsOnceAndTheWorkerIsReplaced()
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(
            1,
            new IsolationOptions { Environment = new Dictionary<string, string?> { ["PARALLELIZE_WORKER_FAULT"] = "exit-after-result-once:" + PathFor("exited") } });
        using var owned = pool;
        Job[] jobs = [.. Enumerable.Range(1, 5).Select(i => new Job(i))];

        foreach (Job job in jobs)
        {
            pool.Invoke(job);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        // The first result arrived whole and counts once. The next input may already have been sent to the dying
        // worker (the parent cannot tell whether it was read), and then it is retried: at-least-once execution.
        AssertConserved(jobs, pool, []);
        Assert.Empty(pool.Failures);
        int firstPid = int.Parse(File.ReadAllText(PathFor("exited")), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Single(pool.Results, r => r.Pid == firstPid);
        Assert.Equal(2, workers.ProcessesStarted);
        Assert.Equal(1, workers.Crashes);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ResultTheCodecCannotEncode_IsAFailureAndTheWorkerStaysUp()
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(1, options: new ParallelizeOptions { MaxAttempts = 1 });
        using var owned = pool;
        var before = new Job(1);
        var cycle = new Job(2, "cycle");
        var after = new Job(3);

        pool.Invoke(before);
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        pool.Invoke(cycle);
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        pool.Invoke(after);
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved([before, cycle, after], pool, []);
        Failure<Job> failure = Assert.Single(pool.Failures);
        Assert.Equal(cycle, failure.Input);
        RemoteExecutorException remote = Assert.IsType<RemoteExecutorException>(Assert.Single(failure.Exceptions));
        Assert.Equal("System.Text.Json.JsonException", remote.RemoteType);
        Assert.Equal(1, workers.ProcessesStarted);
        Assert.Equal(pool.Results[0].Pid, pool.Results[1].Pid);
        Assert.Equal(remote.ProcessId, pool.Results[0].Pid);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecutorThrows_FailureCarriesRemoteTypeMessageAndStackAndTheWorkerStaysUp()
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(1, options: new ParallelizeOptions { MaxAttempts = 2 });
        using var owned = pool;
        var bad = new Job(1, "throw");
        Job[] good = [.. Enumerable.Range(2, 5).Select(i => new Job(i))];

        pool.Invoke(bad);
        foreach (Job job in good)
        {
            pool.Invoke(job);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved([bad, .. good], pool, []);
        Failure<Job> failure = Assert.Single(pool.Failures);
        Assert.Equal(2, failure.Attempts);
        RemoteExecutorException remote = Assert.IsType<RemoteExecutorException>(failure.Exceptions[0]);
        Assert.Equal("System.FormatException", remote.RemoteType);
        Assert.Equal("bad input 1", remote.RemoteMessage);
        Assert.Contains(nameof(ScriptedExecutor.Execute), remote.RemoteStackTrace, StringComparison.Ordinal);
        Assert.Contains("FormatException", remote.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, workers.ProcessesStarted); // whether or not the pool restarted the executor, in the same process
        Assert.Single(pool.Results.Select(r => r.Pid).Distinct());
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData("stdout")]
    [InlineData("native-stdout")]
    public async Task GarbageWrittenToStandardOutput_DoesNotCorruptTheProtocol(string action)
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(1, options: new ParallelizeOptions { MaxAttempts = 1 });
        using var owned = pool;
        Job[] jobs = [.. Enumerable.Range(1, 20).Select(i => new Job(i, i % 2 == 0 ? action : "echo"))];

        foreach (Job job in jobs)
        {
            pool.Invoke(job);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved(jobs, pool, []);
        Assert.Empty(pool.Failures);
        Assert.Equal(0, workers.Crashes);
        Assert.Equal(1, workers.ProcessesStarted);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_DuringRestarts_EveryInputEndsOnceAndNoWorkerIsLeft()
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(
            4,
            options: new ParallelizeOptions { MaxAttempts = 2, MaxRestarts = 1000, RestartBackoff = TimeSpan.FromMilliseconds(1) });
        using var owned = pool;
        Job[] jobs = [.. Enumerable.Range(1, 200).Select(i => new Job(i, i % 3 == 0 ? "failfast" : "echo"))];
        foreach (Job job in jobs)
        {
            pool.Invoke(job);
        }

        await Timeouts.Until(() => workers.Crashes >= 6, "workers have crashed and are restarting");
        IReadOnlyList<Job> aborted = await pool.StopAsync(TimeSpan.Zero).WaitAsync(Timeouts.Hang);

        AssertConserved(jobs, pool, aborted);
        Assert.All(pool.Failures, f => Assert.Equal("failfast", f.Input.Action));
        await Timeouts.Until(() => workers.GetProcessIds().Count == 0, "every worker is gone");
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_CallObservingItsToken_IsAbortedAndTheWorkerShutsDown()
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(1);
        using var owned = pool;
        var blocked = new Job(1, "block-cooperative", Ready: PathFor("ready"));
        var queued = new Job(2);

        pool.Invoke(blocked);
        int pid = Pid(await WaitForFileAsync(PathFor("ready")));
        pool.Invoke(queued);
        IReadOnlyList<Job> aborted = await pool.StopAsync(TimeSpan.Zero).WaitAsync(Timeouts.Hang);

        AssertConserved([blocked, queued], pool, aborted);
        Assert.Equal([blocked, queued], aborted);
        await Timeouts.Until(() => !ProcessState.IsRunning(pid), "the worker exited");
        Assert.Equal(0, workers.Crashes);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Stop_CallIgnoringItsToken_IsAbortedAndTheWorkerIsKilledAfterTheGracePeriod()
    {
        var clock = new ManualTimeProvider();
        (Parallelize<Job, Reply> pool, _) = CreatePool(1, new IsolationOptions { GracePeriod = TimeSpan.FromSeconds(2), TimeProvider = clock });
        using var owned = pool;
        var blocked = new Job(1, "block", Ready: PathFor("ready"));

        pool.Invoke(blocked);
        int pid = Pid(await WaitForFileAsync(PathFor("ready")));
        Task<IReadOnlyList<Job>> stopping = pool.StopAsync(TimeSpan.Zero);
        IReadOnlyList<Job> aborted = await stopping.WaitAsync(Timeouts.Hang);
        clock.Advance(TimeSpan.FromSeconds(2));

        AssertConserved([blocked], pool, aborted);
        Assert.Equal([blocked], aborted);
        await Timeouts.Until(() => !ProcessState.IsRunning(pid), "the worker was killed");
    }
}
