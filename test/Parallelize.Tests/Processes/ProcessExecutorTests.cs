using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Parallelize.Processes;
using Parallelize.Tests.Support;

namespace Parallelize.Tests.Processes;

/// <summary>
/// Runs real programs every Linux has (sh, echo, cat, sleep, true, false). Nothing waits on time: a run that must be
/// cut short blocks in <c>sleep 1000</c> and is ended by a manual clock or by Stop, after the test has seen (through a
/// file the script writes) that the script got where it should.
/// </summary>
public sealed class ProcessExecutorTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(1);

    // Starts a grandchild that blocks, writes "<own pid> <grandchild pid>" to the file given as $1, and waits for it.
    private const string BlockWithGrandchild = "echo started; sleep 1000 & echo $$ $! > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"; wait";

    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("parallelize-processes-");

    public void Dispose()
    {
        // A test that failed half-way may leave a blocked process behind: every pid a script wrote is killed.
        foreach (FileInfo file in _dir.EnumerateFiles("pid*"))
        {
            foreach (string pid in File.ReadAllText(file.FullName).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (int.TryParse(pid, CultureInfo.InvariantCulture, out int id))
                {
                    KillIfRunning(id);
                }
            }
        }

        _dir.Delete(recursive: true);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_ArgumentsWithSpacesQuotesAndWildcards_ReachTheProgramUnchanged()
    {
        var executor = new ProcessExecutor("echo");
        var request = new ProcessRequest("a b", "'c'", "$HOME", "*", "\"d\"");

        ProcessResult result = await executor.ExecuteAsync(request, CancellationToken.None);

        Assert.Equal(0, result.ExitCode);
        Assert.True(result.Succeeded);
        Assert.False(result.TimedOut);
        Assert.Equal("a b 'c' $HOME * \"d\"\n", result.StandardOutput);
        Assert.Equal("", result.StandardError);
        Assert.Same(request, result.Request);
        Assert.Equal("echo", result.FileName);
        Assert.Equal(["a b", "'c'", "$HOME", "*", "\"d\""], result.Arguments);
        Assert.True(result.Elapsed > TimeSpan.Zero);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_LeadingArguments_ComeBeforeTheRequestArguments()
    {
        var executor = new ProcessExecutor("sh", ["-c", "printf '%s|' \"$@\"", "sh"]);

        ProcessResult result = await executor.ExecuteAsync(new ProcessRequest("x", "y z"), CancellationToken.None);

        Assert.Equal("x|y z|", result.StandardOutput);
        Assert.Equal(["-c", "printf '%s|' \"$@\"", "sh", "x", "y z"], result.Arguments);
        Assert.Equal(["-c", "printf '%s|' \"$@\"", "sh"], executor.LeadingArguments);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_StandardInput_IsWrittenThenClosed()
    {
        var executor = new ProcessExecutor("cat");

        ProcessResult result = await executor.ExecuteAsync(new ProcessRequest { StandardInput = "hello\nwörld" }, CancellationToken.None);

        Assert.Equal("hello\nwörld", result.StandardOutput);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_NoStandardInput_ProgramReadingItSeesItsEnd()
    {
        var executor = new ProcessExecutor("cat");

        ProcessResult result = await executor.ExecuteAsync(new ProcessRequest(), CancellationToken.None);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_MegabytesOnStandardErrorThenStandardOutput_ReadsBothWithoutDeadlock()
    {
        // A reader that took standard output to its end before standard error would wait forever: the process
        // blocks on the full standard error pipe first.
        var executor = new ProcessExecutor("sh", ["-c", "head -c 2000000 /dev/zero | tr '\\0' e >&2; head -c 3000000 /dev/zero | tr '\\0' o"]);

        ProcessResult result = await executor.ExecuteAsync(new ProcessRequest(), CancellationToken.None);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(new string('o', 3_000_000), result.StandardOutput);
        Assert.Equal(new string('e', 2_000_000), result.StandardError);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_MegabytesThroughStandardInputAndOutput_ArriveWhole()
    {
        string text = new('x', 4_000_000);
        var executor = new ProcessExecutor("cat");

        ProcessResult result = await executor.ExecuteAsync(new ProcessRequest { StandardInput = text }, CancellationToken.None);

        Assert.Equal(text, result.StandardOutput);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_ProgramIgnoresLargeStandardInput_StillSucceeds()
    {
        var executor = new ProcessExecutor("true");

        ProcessResult result = await executor.ExecuteAsync(new ProcessRequest { StandardInput = new string('x', 4_000_000) }, CancellationToken.None);

        Assert.True(result.Succeeded);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_NonZeroExitWithFailHandling_ThrowsRetryCarryingTheResult()
    {
        var executor = new ProcessExecutor("sh", ["-c", "echo partial; echo 'no such file' >&2; exit 3"]);
        var request = new ProcessRequest("ignored");

        RetryException retry = await Assert.ThrowsAsync<RetryException>(() => executor.ExecuteAsync(request, CancellationToken.None).AsTask());

        ProcessFailedException failed = Assert.IsType<ProcessFailedException>(retry.InnerException);
        Assert.Equal(failed.Message, retry.Message);
        Assert.False(retry.HasReplacementInput);
        ProcessResult result = Assert.IsType<ProcessResult>(failed.Result);
        Assert.Equal(3, result.ExitCode);
        Assert.False(result.Succeeded);
        Assert.False(result.TimedOut);
        Assert.Equal("partial\n", result.StandardOutput);
        Assert.Equal("no such file\n", result.StandardError);
        Assert.Same(request, result.Request);
        Assert.StartsWith("sh -c 'echo partial; echo '\\''no such file'\\'' >&2; exit 3' ignored exited with code 3 in ", failed.Message, StringComparison.Ordinal);
        Assert.EndsWith(" ms. Standard error: no such file", failed.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_NonZeroExitWithReturnResult_ReturnsTheFailedRun()
    {
        var executor = new ProcessExecutor("false", new ProcessExecutorOptions { OnFailure = ProcessFailureHandling.ReturnResult });

        ProcessResult result = await executor.ExecuteAsync(new ProcessRequest(), CancellationToken.None);

        Assert.Equal(1, result.ExitCode);
        Assert.False(result.Succeeded);
        Assert.False(result.TimedOut);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_TimeoutReached_KillsTheTreeKeepsEarlierOutputAndReportsTimedOut()
    {
        var clock = new ManualTimeProvider();
        var executor = new ProcessExecutor(
            "sh",
            ["-c", BlockWithGrandchild, "sh"],
            new ProcessExecutorOptions { Timeout = TimeSpan.FromSeconds(5), OnFailure = ProcessFailureHandling.ReturnResult, TimeProvider = clock });
        string pids = Path.Combine(_dir.FullName, "pids");

        Task<ProcessResult> run = executor.ExecuteAsync(new ProcessRequest(pids), CancellationToken.None).AsTask();
        (int shell, int grandchild) = await ReadPidsAsync(pids);
        clock.Advance(TimeSpan.FromSeconds(5));
        ProcessResult result = await run.WaitAsync(Timeouts.Hang);

        Assert.True(result.TimedOut);
        Assert.False(result.Succeeded);
        Assert.Equal(143, result.ExitCode); // 128 + SIGTERM: the shell had its chance to end by itself
        Assert.Equal("started\n", result.StandardOutput);
        Assert.Equal(TimeSpan.FromSeconds(5), result.Elapsed);
        Assert.Contains("timed out and was killed (exit code 143)", result.ToString(), StringComparison.Ordinal);
        await Timeouts.Until(() => !ProcessState.IsRunning(grandchild), "the grandchild is gone");
        Assert.False(ProcessState.IsRunning(shell));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_TimeoutReachedWithFailHandling_ThrowsRetryWithTimedOutResult()
    {
        var clock = new ManualTimeProvider();
        var executor = new ProcessExecutor("sh", ["-c", BlockWithGrandchild, "sh"], new ProcessExecutorOptions { Timeout = TimeSpan.FromSeconds(1), TimeProvider = clock });
        string pids = Path.Combine(_dir.FullName, "pids");

        Task<ProcessResult> run = executor.ExecuteAsync(new ProcessRequest(pids), CancellationToken.None).AsTask();
        await ReadPidsAsync(pids);
        clock.Advance(TimeSpan.FromSeconds(1));
        RetryException retry = await Assert.ThrowsAsync<RetryException>(() => run.WaitAsync(Timeouts.Hang));

        ProcessFailedException failed = Assert.IsType<ProcessFailedException>(retry.InnerException);
        Assert.True(failed.Result!.TimedOut);
        Assert.Contains("timed out and was killed", failed.Message, StringComparison.Ordinal);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_ChildThatEscapedTheKillHoldsTheOutput_GivesUpOnItAndKeepsWhatWasRead()
    {
        // The subshell's sleep leaves the process group (setsid), so the signals miss it and it keeps standard output
        // open; the run must still end (after a short grace) with the output read so far.
        var clock = new ManualTimeProvider();
        var executor = new ProcessExecutor(
            "sh",
            ["-c", "echo started; (setsid sleep 1000 & echo $! $$ > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"); exec sleep 1000", "sh"],
            new ProcessExecutorOptions { Timeout = TimeSpan.FromSeconds(1), OnFailure = ProcessFailureHandling.ReturnResult, TimeProvider = clock });
        string pidFile = Path.Combine(_dir.FullName, "pid");

        Task<ProcessResult> run = executor.ExecuteAsync(new ProcessRequest(pidFile), CancellationToken.None).AsTask();
        await Timeouts.Until(() => File.Exists(pidFile), "the escaped child has written its pid");
        int[] pids = File.ReadAllText(pidFile).Split(' ', StringSplitOptions.TrimEntries).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        int escaped = pids[0];
        try
        {
            // The escape is complete once the child has left the shell's session (setsid has run: until then a signal
            // to the shell's process group still reaches it), and the subshell that started it has exited and the sleep
            // has been handed to a reaper (until then a kill of the shell's process tree still reaches it).
            await Timeouts.Until(
                () => ProcessState.LeadsItsOwnSession(escaped) && !ProcessState.IsDescendantOf(escaped, pids[1]),
                "the escaped child has left the shell's session and tree");
            clock.Advance(TimeSpan.FromSeconds(1));
            ProcessResult result = await run.WaitAsync(Timeouts.Hang);

            Assert.True(result.TimedOut);
            Assert.Equal("started\n", result.StandardOutput);
            Assert.True(ProcessState.IsRunning(escaped), "the test needs a child that escaped the kill");
        }
        finally
        {
            KillIfRunning(escaped);
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_ProcessExitedButABackgroundChildHoldsTheOutput_RunLastsUntilTheTimeout()
    {
        var clock = new ManualTimeProvider();
        var executor = new ProcessExecutor(
            "sh",
            ["-c", "(sleep 1000 & echo $$ $! > \"$1.tmp\"; mv \"$1.tmp\" \"$1\"); echo done", "sh"],
            new ProcessExecutorOptions { Timeout = TimeSpan.FromSeconds(1), OnFailure = ProcessFailureHandling.ReturnResult, TimeProvider = clock });
        string pids = Path.Combine(_dir.FullName, "pids");

        Task<ProcessResult> run = executor.ExecuteAsync(new ProcessRequest(pids), CancellationToken.None).AsTask();
        (int shell, int background) = await ReadPidsAsync(pids);
        try
        {
            await Timeouts.Until(() => !ProcessState.IsRunning(shell), "the shell has exited");
            Assert.False(run.IsCompleted);
            clock.Advance(TimeSpan.FromSeconds(1));
            ProcessResult result = await run.WaitAsync(Timeouts.Hang);

            Assert.True(result.TimedOut);
            Assert.Equal(0, result.ExitCode);
            Assert.False(result.Succeeded);
            Assert.Equal("done\n", result.StandardOutput);
        }
        finally
        {
            KillIfRunning(background);
        }
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_TokenCancelledWithNoGracePeriod_KillsTheTreeAndThrowsOperationCanceled()
    {
        var executor = new ProcessExecutor("sh", ["-c", BlockWithGrandchild, "sh"], new ProcessExecutorOptions { TerminationGracePeriod = TimeSpan.Zero });
        string pids = Path.Combine(_dir.FullName, "pids");
        using var cancel = new CancellationTokenSource();

        Task<ProcessResult> run = executor.ExecuteAsync(new ProcessRequest(pids), cancel.Token).AsTask();
        (int shell, int grandchild) = await ReadPidsAsync(pids);
        cancel.Cancel();

        // Killed by the time Cancel returns, as Stop cancels the pool's token: a program may exit right after Stop.
        Assert.True(ProcessState.IsDeadOrKilled(shell));
        Assert.True(ProcessState.IsDeadOrKilled(grandchild));
        OperationCanceledException canceled = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeouts.Hang));
        Assert.Equal(cancel.Token, canceled.CancellationToken);
        Assert.Contains("stopped the run", canceled.Message, StringComparison.Ordinal);
        await Timeouts.Until(() => !ProcessState.IsRunning(grandchild) && !ProcessState.IsRunning(shell), "the shell and its grandchild are gone");
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_TokenAlreadyCancelled_StartsNothing()
    {
        string marker = Path.Combine(_dir.FullName, "ran");
        var executor = new ProcessExecutor("touch");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => executor.ExecuteAsync(new ProcessRequest(marker), new CancellationToken(canceled: true)).AsTask());

        Assert.False(File.Exists(marker));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_NoSuchProgram_ThrowsExecutorLostWithTheSystemError()
    {
        var executor = new ProcessExecutor("parallelize-no-such-program");

        var lost = await Assert.ThrowsAsync<ExecutorLostException>(() => executor.ExecuteAsync(new ProcessRequest(), CancellationToken.None).AsTask());
        Assert.IsType<Win32Exception>(lost.InnerException);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_WorkingDirectories_RequestOverridesTheOptions()
    {
        DirectoryInfo first = _dir.CreateSubdirectory("first");
        DirectoryInfo second = _dir.CreateSubdirectory("second");
        await File.WriteAllTextAsync(Path.Combine(first.FullName, "name"), "first");
        await File.WriteAllTextAsync(Path.Combine(second.FullName, "name"), "second");
        var executor = new ProcessExecutor("cat", ["name"], new ProcessExecutorOptions { WorkingDirectory = first.FullName });

        ProcessResult fromOptions = await executor.ExecuteAsync(new ProcessRequest(), CancellationToken.None);
        ProcessResult fromRequest = await executor.ExecuteAsync(new ProcessRequest { WorkingDirectory = second.FullName }, CancellationToken.None);

        Assert.Equal("first", fromOptions.StandardOutput);
        Assert.Equal("second", fromRequest.StandardOutput);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_Environment_SetsAndRemovesVariablesOverTheInheritedOnes()
    {
        // A variable of this name exists only for this test.
        Environment.SetEnvironmentVariable("PARALLELIZE_TEST_INHERITED", "inherited");
        string[] script = ["-c", "echo \"${PARALLELIZE_TEST_SET-unset}|${PARALLELIZE_TEST_INHERITED-unset}\""];
        var plain = new ProcessExecutor("sh", script);
        var changed = new ProcessExecutor(
            "sh",
            script,
            new ProcessExecutorOptions { Environment = new Dictionary<string, string?> { ["PARALLELIZE_TEST_SET"] = "set", ["PARALLELIZE_TEST_INHERITED"] = null } });

        ProcessResult inherited = await plain.ExecuteAsync(new ProcessRequest(), CancellationToken.None);
        ProcessResult result = await changed.ExecuteAsync(new ProcessRequest(), CancellationToken.None);

        Assert.Equal("unset|inherited\n", inherited.StandardOutput);
        Assert.Equal("set|unset\n", result.StandardOutput);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task ExecuteAsync_OutputNotCaptured_ReturnsEmptyOutputAndTheExitCode()
    {
        var executor = new ProcessExecutor("sh", ["-c", "exit 4"], new ProcessExecutorOptions { CaptureOutput = false, OnFailure = ProcessFailureHandling.ReturnResult });

        ProcessResult result = await executor.ExecuteAsync(new ProcessRequest(), CancellationToken.None);

        Assert.Equal(4, result.ExitCode);
        Assert.Equal("", result.StandardOutput);
        Assert.Equal("", result.StandardError);
    }

    [Fact]
    public void Constructor_BadArguments_ThrowNamingTheArgument()
    {
        Assert.Equal("fileName", Assert.Throws<ArgumentNullException>(() => new ProcessExecutor(null!)).ParamName);
        Assert.Equal("fileName", Assert.Throws<ArgumentException>(() => new ProcessExecutor(" ")).ParamName);
        Assert.Equal("leadingArguments", Assert.Throws<ArgumentNullException>(() => new ProcessExecutor("echo", (IEnumerable<string>)null!)).ParamName);
        Assert.Equal("leadingArguments", Assert.Throws<ArgumentException>(() => new ProcessExecutor("echo", ["a", null!])).ParamName);
    }

    [Fact]
    public void Constructor_NoOptions_UsesTheDefaults()
    {
        var executor = new ProcessExecutor("echo");

        Assert.Equal("echo", executor.FileName);
        Assert.Empty(executor.LeadingArguments);
        Assert.Equal(new ProcessExecutorOptions(), executor.Options);
    }

    [Fact]
    public async Task ExecuteAsync_NullInput_ThrowsArgumentNull()
    {
        var executor = new ProcessExecutor("echo");

        ArgumentNullException thrown = await Assert.ThrowsAsync<ArgumentNullException>(() => executor.ExecuteAsync(null!, CancellationToken.None).AsTask());

        Assert.Equal("input", thrown.ParamName);
    }

    [Fact]
    public void Create_GivesCountSeparateExecutorsSharingProgramArgumentsAndOptions()
    {
        var options = new ProcessExecutorOptions { Timeout = TimeSpan.FromSeconds(3) };

        IReadOnlyList<ProcessExecutor> executors = ProcessExecutor.Create("sh", 3, ["-c", "true"], options);

        Assert.Equal(3, executors.Count);
        Assert.Equal(3, executors.Distinct().Count());
        Assert.All(executors, e =>
        {
            Assert.Equal("sh", e.FileName);
            Assert.Equal(["-c", "true"], e.LeadingArguments);
            Assert.Same(options, e.Options);
        });
        Assert.Single(ProcessExecutor.Create("true", 1));
    }

    [Fact]
    public void Create_BadArguments_ThrowNamingTheArgument()
    {
        Assert.Equal("count", Assert.Throws<ArgumentOutOfRangeException>(() => ProcessExecutor.Create("true", 0)).ParamName);
        Assert.Equal("fileName", Assert.Throws<ArgumentException>(() => ProcessExecutor.Create("", 2)).ParamName);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Pool_TwoExecutors_RunTwoProcessesAtOnceAndTopUpAsEachFinishes()
    {
        // Each run marks that it started, then waits for the test's release file.
        string started = _dir.CreateSubdirectory("started").FullName;
        string release = Path.Combine(_dir.FullName, "release");
        using var pool = new Parallelize<ProcessRequest, ProcessResult>(ProcessExecutor.Create(
            "sh", 2, ["-c", "touch \"$1/$2\"; while [ ! -e \"$3\" ]; do sleep 0.01; done; echo \"$2\"", "sh"]));
        for (int i = 1; i <= 5; i++)
        {
            pool.Invoke(new ProcessRequest(started, i.ToString(CultureInfo.InvariantCulture), release));
        }

        await Timeouts.Until(() => Directory.GetFiles(started).Length == 2, "two runs have started");
        Assert.Equal(2, Directory.GetFiles(started).Length); // the pool holds the other three back
        await File.WriteAllTextAsync(release, "");
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(5, Directory.GetFiles(started).Length);
        Assert.Equal(["1", "2", "3", "4", "5"], pool.Results.Select(r => r.StandardOutput.Trim()).Order());
        Assert.All(pool.Results, r => Assert.Equal(0, r.ExitCode));
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Pool_FailingCommands_AreRetriedUpToMaxAttemptsWithoutRestartingOrRetiringTheExecutor()
    {
        // One executor and many failing inputs: were each failure a fault, the restart policy would retire it.
        using var pool = new Parallelize<ProcessRequest, ProcessResult>(
            ProcessExecutor.Create("sh", 1, ["-c", "echo \"$1\"; exit \"$1\"", "sh"]),
            new ParallelizeOptions { MaxAttempts = 2, MaxRestarts = 0 });
        for (int i = 0; i < 10; i++)
        {
            pool.Invoke(new ProcessRequest("7"));
        }

        pool.Invoke(new ProcessRequest("0"));
        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal(0, pool.Restarts);
        ProcessResult success = Assert.Single(pool.Results);
        Assert.Equal("0\n", success.StandardOutput);
        Assert.Equal(10, pool.Failures.Count);
        Assert.All(pool.Failures, failure =>
        {
            Assert.Equal(2, failure.Attempts);
            Assert.All(failure.Exceptions, e => Assert.Equal(7, Assert.IsType<ProcessFailedException>(e.InnerException).Result!.ExitCode));
        });
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Pool_ReturnResultHandling_CollectsEveryExitCodeTriedOnce()
    {
        using var pool = new Parallelize<ProcessRequest, ProcessResult>(
            ProcessExecutor.Create("sh", 3, ["-c", "exit \"$1\"", "sh"], new ProcessExecutorOptions { OnFailure = ProcessFailureHandling.ReturnResult }));
        for (int code = 0; code < 6; code++)
        {
            pool.Invoke(new ProcessRequest(code.ToString(CultureInfo.InvariantCulture)));
        }

        await pool.WaitAsync().WaitAsync(Timeouts.Hang);

        Assert.Equal([0, 1, 2, 3, 4, 5], pool.Results.Select(r => r.ExitCode).Order());
        Assert.All(pool.Results, r => Assert.Equal(r.Request.Arguments[0], r.ExitCode.ToString(CultureInfo.InvariantCulture)));
        Assert.Empty(pool.Failures);
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Pool_StopWithRunsInFlight_HasKilledEveryProcessTreeWhenItReturnsAndAbortsEveryInput()
    {
        // Killed runs must not come back as results, even with non-zero exits returned as results.
        using var pool = new Parallelize<ProcessRequest, ProcessResult>(ProcessExecutor.Create(
            "sh", 2, ["-c", BlockWithGrandchild, "sh"], new ProcessExecutorOptions { OnFailure = ProcessFailureHandling.ReturnResult, TerminationGracePeriod = TimeSpan.Zero }));
        string[] pidFiles = [.. Enumerable.Range(0, 3).Select(i => Path.Combine(_dir.FullName, $"pids{i}"))];
        foreach (string file in pidFiles)
        {
            pool.Invoke(new ProcessRequest(file));
        }

        await Timeouts.Until(() => pidFiles.Count(File.Exists) == 2, "two runs are blocked");
        List<(int Shell, int Grandchild)> running = [];
        foreach (string file in pidFiles.Where(File.Exists))
        {
            running.Add(await ReadPidsAsync(file));
        }

        IReadOnlyList<ProcessRequest> aborted = await Task.Run(() => pool.Stop(TimeSpan.Zero));

        Assert.All(running, p => Assert.True(ProcessState.IsDeadOrKilled(p.Shell) && ProcessState.IsDeadOrKilled(p.Grandchild)));
        Assert.Equal(pidFiles, aborted.Select(r => r.Arguments[0]).Order(StringComparer.Ordinal));
        Assert.Empty(pool.Results);
        Assert.Empty(pool.Failures);
        Assert.Equal(0, pool.Restarts);
        await Timeouts.Until(() => running.TrueForAll(p => !ProcessState.IsRunning(p.Shell) && !ProcessState.IsRunning(p.Grandchild)), "every process of both trees is gone");
    }

    [Fact(Timeout = Timeouts.Test)]
    public async Task Pool_ProgramCannotStart_FaultsThePoolInsteadOfRunningEveryInput()
    {
        using var pool = new Parallelize<ProcessRequest, ProcessResult>(
            ProcessExecutor.Create("parallelize-no-such-program", 2),
            new ParallelizeOptions { MaxRestarts = 0 });
        for (int i = 0; i < 5; i++)
        {
            pool.Invoke(new ProcessRequest());
        }

        ParallelizeException fault = await Assert.ThrowsAsync<ParallelizeException>(() => pool.WaitAsync().WaitAsync(Timeouts.Hang));

        Assert.All(fault.InnerExceptions, e => Assert.IsType<Win32Exception>(Assert.IsType<ExecutorLostException>(e).InnerException));
        IReadOnlyList<ProcessRequest> notDone = pool.Stop();
        Assert.Equal(5, notDone.Count);
        Assert.Empty(pool.Failures);
    }

    private static void KillIfRunning(int pid)
    {
        try
        {
            if (ProcessState.IsRunning(pid))
            {
                using Process process = Process.GetProcessById(pid);
                process.Kill();
            }
        }
        catch (ArgumentException)
        {
            // It exited in the meantime.
        }
    }

    /// <summary>Waits for the file <see cref="BlockWithGrandchild"/> writes (renamed into place whole) and reads it.</summary>
    private static async Task<(int Shell, int Grandchild)> ReadPidsAsync(string path)
    {
        await Timeouts.Until(() => File.Exists(path), $"{Path.GetFileName(path)} is written");
        string[] pids = (await File.ReadAllTextAsync(path)).Split(' ', StringSplitOptions.TrimEntries);
        return (int.Parse(pids[0], CultureInfo.InvariantCulture), int.Parse(pids[1], CultureInfo.InvariantCulture));
    }
}
