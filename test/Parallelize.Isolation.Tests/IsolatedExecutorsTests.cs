using System.Text.Json.Serialization;
using Parallelize.Isolation.Tests.Support;
using Parallelize.Isolation.Tests.Workers;

namespace Parallelize.Isolation.Tests;

/// <summary>The isolated executors' ordinary life: creation, codecs, retries, recycling and shutdown.</summary>
public sealed class IsolatedExecutorsTests : IsolationTest
{
    [Fact(Timeout = Timeouts.Test)]
    public async Task Invoke_ManyInputs_EachRunsInAWorkerProcessAndEndsInResults()
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(3);
        using var owned = pool;
        Job[] jobs = [.. Enumerable.Range(1, 300).Select(i => new Job(i))];
        Assert.Equal(3, pool.Executors.Count); // waits until the three workers are up

        foreach (Job job in jobs)
        {
            pool.Invoke(job);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved(jobs, pool, []);
        Assert.Equal(3, workers.ProcessesStarted);
        Assert.DoesNotContain(pool.Results, r => r.Pid == Environment.ProcessId);
        Assert.Subset(workers.GetProcessIds().ToHashSet(), pool.Results.Select(r => r.Pid).ToHashSet());
        Assert.Equal(3, workers.GetProcessIds().Count);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Dispose_Pool_DisposesEachExecutorInItsWorkerAndTheWorkersExit()
    {
        IsolatedExecutors<Job, Reply> workers = Isolated.Create<ScriptedExecutor, Job, Reply>(
            2,
            new IsolationOptions { Environment = new Dictionary<string, string?> { [ScriptedExecutor.DisposedDirectory] = Dir.FullName } });
        int[] pids;
        using (var pool = new Parallelize<Job, Reply>(workers))
        {
            _ = pool.Executors; // both created
            pids = [.. workers.GetProcessIds()];
            pool.Invoke(new Job(1));
            pool.Wait();
        }

        Assert.Equal(2, pids.Length);
        foreach (int pid in pids)
        {
            Assert.True(File.Exists(PathFor($"disposed-{pid}")), $"worker {pid} disposed its executor");
            await Timeouts.Until(() => !ProcessState.IsRunning(pid), $"worker {pid} exited");
        }

        Assert.Equal(0, workers.Crashes);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task RecycleAfterCalls_WorkersAreReplacedBetweenCallsWithoutLosingOrRetryingAnInput()
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(
            2,
            new IsolationOptions { RecycleAfterCalls = 5 },
            new ParallelizeOptions { MaxAttempts = 1 });
        using var owned = pool;
        Job[] jobs = [.. Enumerable.Range(1, 50).Select(i => new Job(i))];

        foreach (Job job in jobs)
        {
            pool.Invoke(job);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved(jobs, pool, []);
        Assert.Empty(pool.Failures);
        Assert.All(pool.Results.GroupBy(r => r.Pid), g => Assert.InRange(g.Count(), 1, 5));
        Assert.True(workers.Recycles >= 8, $"recycled {workers.Recycles} times");
        Assert.Equal(0, workers.Crashes);
        Assert.Equal(0, pool.Restarts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task MaxMemory_WorkerAboveIt_IsReplacedAfterItsCall()
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(1, new IsolationOptions { MaxMemory = 1 });
        using var owned = pool;

        pool.Invoke(new Job(1));
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);
        pool.Invoke(new Job(2));
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved([new Job(1), new Job(2)], pool, []);
        Assert.InRange(workers.Recycles, 1, 2); // after each call whose check found it above the limit
        Assert.NotEqual(pool.Results[0].Pid, pool.Results[1].Pid);
        Assert.Equal(0, workers.Crashes);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task MaxCrashesPerInput_One_PoisonInputCrashesOneWorkerThenUsesItsAttemptsWithoutRunning()
    {
        (Parallelize<Job, Reply> pool, IsolatedExecutors<Job, Reply> workers) = CreatePool(
            1,
            new IsolationOptions { MaxCrashesPerInput = 1 },
            new ParallelizeOptions { MaxAttempts = 3 });
        using var owned = pool;
        var poison = new Job(1, "failfast");
        var good = new Job(2);

        pool.Invoke(poison);
        pool.Invoke(good);
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved([poison, good], pool, []);
        Failure<Job> failure = Assert.Single(pool.Failures);
        Assert.Equal(3, failure.Attempts);
        WorkerCrashedException crash = Assert.IsType<WorkerCrashedException>(failure.Exceptions[0]);
        Assert.All(failure.Exceptions.Skip(1), e => Assert.Same(crash, Assert.IsType<RetryException>(e).InnerException));
        Assert.Equal(1, workers.Crashes);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task RetryWithInputInTheWorker_RunsTheReplacementWithoutARestart()
    {
        (Parallelize<Job, Reply> pool, _) = CreatePool(1);
        using var owned = pool;

        pool.Invoke(new Job(1, "retry-replace"));
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(1001, Assert.Single(pool.Results).Id);
        Assert.Empty(pool.Failures);
        Assert.Equal(0, pool.Restarts);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task AsyncExecutorType_RunsInItsWorker()
    {
        using var pool = new Parallelize<int, int>(Isolated.Create<AsyncEchoExecutor, int, int>(2));
        for (int i = 0; i < 100; i++)
        {
            pool.Invoke(i);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(Enumerable.Range(0, 100).Select(i => i * 2), pool.Results.Order());
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task NonCapturingLambdaFactory_IsCreatedAgainInTheWorker()
    {
        using var pool = new Parallelize<Job, Reply>(Isolated.Create(2, static () => (IExecutor<Job, Reply>)new ScriptedExecutor()));
        pool.Invoke(new Job(1));
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(1, Assert.Single(pool.Results).Id);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task SourceGeneratedJsonCodecs_CarryInputsAndResults()
    {
        var options = new IsolationOptions { Codecs = new JsonWireCodecProvider<TestJsonContext>() };
        (Parallelize<Job, Reply> pool, _) = CreatePool(1, options);
        using var owned = pool;

        pool.Invoke(new Job(7));
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(7, Assert.Single(pool.Results).Id);
    }

    [Fact]
    public void Create_CapturingLambda_IsRefusedNamingTheProblem()
    {
        var captured = new ScriptedExecutor();

        ArgumentException refused = Assert.Throws<ArgumentException>(() => Isolated.Create(2, () => (IExecutor<Job, Reply>)captured));

        Assert.Equal("factory", refused.ParamName);
        Assert.Contains("captures state", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_TypeThatIsNoExecutor_IsRefused()
    {
        ArgumentException refused = Assert.Throws<ArgumentException>(() => Isolated.Create<Node, Job, Reply>(1));

        Assert.Equal("TExecutor", refused.ParamName);
    }

    [Fact]
    public void Create_CountBelowOne_IsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Isolated.Create<ScriptedExecutor, Job, Reply>(0));

    [Fact]
    public void Options_InvalidValues_AreRefusedWhenSet()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new IsolationOptions { CallTimeout = TimeSpan.Zero });
        Assert.Throws<ArgumentOutOfRangeException>(() => new IsolationOptions { StartTimeout = TimeSpan.FromSeconds(-1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => new IsolationOptions { GracePeriod = TimeSpan.FromSeconds(-1) });
        Assert.Throws<ArgumentOutOfRangeException>(() => new IsolationOptions { RecycleAfterCalls = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new IsolationOptions { MaxMemory = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new IsolationOptions { MaxCrashesPerInput = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new IsolationOptions { StandardErrorTailSize = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new IsolationOptions { MaxCallsInFlight = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new IsolationOptions { MaxCallsInFlight = 257 });
        Assert.Throws<ArgumentNullException>(() => new IsolationOptions { TimeProvider = null! });
        Assert.Throws<ArgumentException>(() => new IsolationOptions { Codecs = new PrivateCodecs(0) });
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task MaxCallsInFlightOne_CallsStillAllEndInResults()
    {
        (Parallelize<Job, Reply> pool, _) = CreatePool(2, new IsolationOptions { MaxCallsInFlight = 1 });
        using var owned = pool;
        Job[] jobs = [.. Enumerable.Range(1, 100).Select(i => new Job(i))];

        foreach (Job job in jobs)
        {
            pool.Invoke(job);
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        AssertConserved(jobs, pool, []);
    }

    [Fact]
    public void RunIfWorker_WithoutTheMarker_ReturnsAtOnce()
    {
        IsolatedWorker.RunIfWorker(["--something-else"]);
        IsolatedWorker.RunIfWorker([]);

        Assert.False(IsolatedWorker.IsWorker);
    }

    private sealed class PrivateCodecs(int unused) : WireCodecProvider
    {
        public override IWireCodec<T> GetCodec<T>() => throw new NotSupportedException(unused.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

[JsonSerializable(typeof(Job))]
[JsonSerializable(typeof(Reply))]
public sealed partial class TestJsonContext : JsonSerializerContext;
