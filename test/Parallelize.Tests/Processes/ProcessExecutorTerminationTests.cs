using System.Globalization;
using Parallelize.Processes;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Processes;

/// <summary>
/// How runs end when they must: SIGTERM first (a program cleans up), SIGKILL after the grace period, a process group of
/// their own so that a terminal's Ctrl-C leaves the decision to the pool, and output streamed instead of captured.
/// Scripts say through files when they are where the test wants them; grace periods run on a manual clock.
/// </summary>
public sealed class ProcessExecutorTerminationTests : IDisposable
{
    // Writes a partial output file and a ready file, then waits; on SIGTERM it removes the partial file, as gzip does.
    private const string CleansUpOnTerm =
        "trap 'rm -f \"$1.partial\"; exit 143' TERM; echo data > \"$1.partial\"; echo $$ > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; sleep 1000 & wait";

    // Ignores SIGTERM (and so does its sleep, which inherits the ignored disposition).
    private const string IgnoresTerm = "trap '' TERM; sleep 1000 & echo $$ $! > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; wait";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("parallelize-termination-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact(Timeout = Timeouts.Test)]
    public async Task Timeout_ProgramThatCleansUpOnSigterm_RemovesItsPartialOutput()
    {
        var clock = new ManualTimeProvider();
        var executor = new ProcessExecutor("sh", ["-c", CleansUpOnTerm, "sh"], new ProcessExecutorOptions
        {
            Timeout = TimeSpan.FromSeconds(10),
            OnFailure = ProcessFailureHandling.ReturnResult,
            TimeProvider = clock,
        });
        string ready = Path.Combine(_dir.FullName, "out");

        Task<ProcessResult> run = executor.ExecuteAsync(new ProcessRequest(ready), CancellationToken.None).AsTask();
        await Timeouts.Until(() => File.Exists(ready), "the script has written its partial output");
        Assert.True(File.Exists(ready + ".partial"));
        clock.Advance(TimeSpan.FromSeconds(10));
        ProcessResult result = await run.WaitAsync(Timeouts.Hang);

        Assert.True(result.TimedOut);
        Assert.Equal(143, result.ExitCode);
        Assert.False(File.Exists(ready + ".partial"), "SIGTERM let the program remove its partial output");
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Timeout_NoGracePeriod_SigkillLeavesThePartialOutputBehind()
    {
        var clock = new ManualTimeProvider();
        var executor = new ProcessExecutor("sh", ["-c", CleansUpOnTerm, "sh"], new ProcessExecutorOptions
        {
            Timeout = TimeSpan.FromSeconds(10),
            OnFailure = ProcessFailureHandling.ReturnResult,
            TerminationGracePeriod = TimeSpan.Zero,
            TimeProvider = clock,
        });
        string ready = Path.Combine(_dir.FullName, "out");

        Task<ProcessResult> run = executor.ExecuteAsync(new ProcessRequest(ready), CancellationToken.None).AsTask();
        await Timeouts.Until(() => File.Exists(ready), "the script has written its partial output");
        clock.Advance(TimeSpan.FromSeconds(10));
        ProcessResult result = await run.WaitAsync(Timeouts.Hang);

        Assert.True(result.TimedOut);
        Assert.Equal(137, result.ExitCode);
        Assert.True(File.Exists(ready + ".partial"), "SIGKILL gave the program no chance to clean up");
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Cancel_ProgramIgnoresSigterm_IsKilledWhenTheGracePeriodEnds()
    {
        var clock = new ManualTimeProvider();
        var executor = new ProcessExecutor("sh", ["-c", IgnoresTerm, "sh"], new ProcessExecutorOptions
        {
            TerminationGracePeriod = TimeSpan.FromSeconds(3),
            TimeProvider = clock,
        });
        string pids = Path.Combine(_dir.FullName, "pids");
        using var cancel = new CancellationTokenSource();

        Task<ProcessResult> run = executor.ExecuteAsync(new ProcessRequest(pids), cancel.Token).AsTask();
        int[] tree = await ReadPidsAsync(pids);
        await cancel.CancelAsync();

        Assert.All(tree, pid => Assert.True(ProcessState.IsRunning(pid), $"{pid} ignores SIGTERM"));
        Assert.False(run.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(3));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeouts.Hang));
        await Timeouts.Until(() => tree.All(pid => !ProcessState.IsRunning(pid)), "the whole group is gone");
    }

    [Theory(Timeout = Timeouts.Test)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task NewProcessGroup_DecidesWhetherARunSharesThisProcesssGroup(bool ownGroup)
    {
        var executor = new ProcessExecutor("sh", ["-c", "cut -d ' ' -f 5 /proc/$$/stat; echo $$"], new ProcessExecutorOptions { NewProcessGroup = ownGroup });

        ProcessResult result = await executor.ExecuteAsync(new ProcessRequest(), CancellationToken.None);

        string[] lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        int group = int.Parse(lines[0], CultureInfo.InvariantCulture);
        int pid = int.Parse(lines[1], CultureInfo.InvariantCulture);
        int ours = int.Parse(File.ReadAllText("/proc/self/stat").Split(' ')[4], CultureInfo.InvariantCulture);
        if (ownGroup)
        {
            // A terminal's Ctrl-C goes to its foreground group (ours), so it cannot reach this run.
            Assert.Equal(pid, group);
            Assert.NotEqual(ours, group);
        }
        else
        {
            Assert.Equal(ours, group);
        }

        Assert.Equal("sh", result.FileName);
        Assert.Equal("-c", result.Arguments[0]);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Pool_StopWhileProgramsRun_EveryRunIsAbortedEvenIfItExitsWithCode130()
    {
        // The program ends with 130 on SIGTERM, as one killed by Ctrl-C would: neither a result nor a failure.
        using var pool = new Parallelize<ProcessRequest, ProcessResult>(
            ProcessExecutor.Create("sh", 2, ["-c", "trap 'exit 130' TERM; echo $$ > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; sleep 1000 & wait", "sh"], new ProcessExecutorOptions { OnFailure = ProcessFailureHandling.ReturnResult }),
            new ParallelizeOptions { MaxAttempts = 1 });
        ProcessRequest[] requests = [.. Enumerable.Range(0, 2).Select(i => new ProcessRequest(Path.Combine(_dir.FullName, $"run{i}")))];
        foreach (ProcessRequest request in requests)
        {
            pool.Invoke(request);
        }

        await Timeouts.Until(() => requests.All(r => File.Exists(r.Arguments[0])), "both runs are going");
        IReadOnlyList<ProcessRequest> aborted = await pool.StopAsync(TimeSpan.Zero).WaitAsync(Timeouts.Hang);

        Assert.Equal(requests, aborted);
        Assert.Empty(pool.Results);
        Assert.Empty(pool.Failures);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task OnOutputLine_StreamsBothStreamsLineByLineAndCapturesNothing()
    {
        var lines = new System.Collections.Concurrent.ConcurrentQueue<ProcessOutputLine>();
        var executor = new ProcessExecutor("sh", ["-c", "for i in 1 2 3; do echo out$i; echo err$i >&2; done"], new ProcessExecutorOptions { OnOutputLine = lines.Enqueue });
        var request = new ProcessRequest();

        ProcessResult result = await executor.ExecuteAsync(request, CancellationToken.None);

        Assert.Equal("", result.StandardOutput);
        Assert.Equal("", result.StandardError);
        Assert.Equal(["out1", "out2", "out3"], lines.Where(l => !l.IsStandardError).Select(l => l.Text));
        Assert.Equal(["err1", "err2", "err3"], lines.Where(l => l.IsStandardError).Select(l => l.Text));
        Assert.All(lines, l => Assert.Same(request, l.Request));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task StandardOutputFile_ReceivesTheOutputWhichIsNotCaptured()
    {
        string file = Path.Combine(_dir.FullName, "out.txt");
        File.WriteAllText(file, "old content that must go");
        var executor = new ProcessExecutor("sh", ["-c", "head -c 3000000 /dev/zero | tr '\\0' o; echo warning >&2"]);

        ProcessResult result = await executor.ExecuteAsync(new ProcessRequest { StandardOutputFile = file }, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal("", result.StandardOutput);
        Assert.Equal("warning\n", result.StandardError);
        Assert.Equal(new string('o', 3_000_000), File.ReadAllText(file));
    }

    [Fact]
    public void TerminationGracePeriod_Negative_IsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProcessExecutorOptions { TerminationGracePeriod = TimeSpan.FromSeconds(-1) });
        Assert.Equal(TimeSpan.FromSeconds(5), new ProcessExecutorOptions().TerminationGracePeriod);
        Assert.True(new ProcessExecutorOptions().NewProcessGroup);
    }

    private static async Task<int[]> ReadPidsAsync(string path)
    {
        await Timeouts.Until(() => File.Exists(path), "the script has written its pids");
        return [.. File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture))];
    }
}
