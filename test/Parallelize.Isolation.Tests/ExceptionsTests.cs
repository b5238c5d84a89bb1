namespace Parallelize.Isolation.Tests;

/// <summary>The exceptions of process isolation: their standard constructors and what their messages say.</summary>
public sealed class ExceptionsTests
{
    [Fact]
    public void RemoteExecutorException_StandardConstructors_KeepMessageAndCause()
    {
        var cause = new InvalidOperationException("cause");

        Assert.Contains("worker process", new RemoteExecutorException().Message, StringComparison.Ordinal);
        Assert.Equal("m", new RemoteExecutorException("m").RemoteMessage);
        Assert.Same(cause, new RemoteExecutorException("m", cause).InnerException);
        Assert.Equal(0, new RemoteExecutorException("m").ProcessId);
    }

    [Fact]
    public void WorkerCrashedException_StandardConstructors_HaveNoExitDetails()
    {
        var cause = new TimeoutException();

        Assert.Null(new WorkerCrashedException().ExitCode);
        Assert.Null(new WorkerCrashedException("m").Signal);
        Assert.Null(new WorkerCrashedException("m").SignalName);
        Assert.Same(cause, new WorkerCrashedException("m", cause).InnerException);
        Assert.Equal("", new WorkerCrashedException("m", cause).StandardErrorTail);
    }

    [Theory]
    [InlineData(137, 9, "SIGKILL")]
    [InlineData(134, 6, "SIGABRT")]
    [InlineData(139, 11, "SIGSEGV")]
    [InlineData(143, 15, "SIGTERM")]
    [InlineData(130, 2, "SIGINT")]
    [InlineData(129, 1, "SIGHUP")]
    [InlineData(131, 3, "SIGQUIT")]
    [InlineData(132, 4, "SIGILL")]
    [InlineData(135, 7, "SIGBUS")]
    [InlineData(136, 8, "SIGFPE")]
    [InlineData(141, 13, "SIGPIPE")]
    [InlineData(142, 14, "SIGALRM")]
    [InlineData(138, 10, "signal 10")]
    public void WorkerCrashedException_ExitCodeOfADeathBySignal_NamesTheSignal(int exitCode, int signal, string name)
    {
        var crash = new WorkerCrashedException(new WorkerExit(42, exitCode, WorkerExitReason.Crashed, "last words\n"), "while running a call");

        Assert.Equal(signal, crash.Signal);
        Assert.Equal(name, crash.SignalName);
        Assert.Equal(42, crash.ProcessId);
        Assert.Equal($"The worker process 42 died while running a call (killed by {name}, exit code {exitCode}). Standard error: last words", crash.Message);
    }

    [Theory]
    [InlineData(WorkerExitReason.CallTimeout, "ran past its call timeout and was killed")]
    [InlineData(WorkerExitReason.StartTimeout, "did not start in time and was killed")]
    [InlineData(WorkerExitReason.ProtocolError, "broke the protocol and was killed")]
    [InlineData(WorkerExitReason.StartFailed, "could not be started")]
    [InlineData(WorkerExitReason.Shutdown, "was shut down")]
    public void WorkerCrashedException_Reason_IsInTheMessage(WorkerExitReason reason, string says)
    {
        var crash = new WorkerCrashedException(new WorkerExit(7, 3, reason, new string('e', 2000)), "while starting");

        Assert.Contains(says, crash.Message, StringComparison.Ordinal);
        Assert.Contains("(exit code 3)", crash.Message, StringComparison.Ordinal);
        Assert.EndsWith("…" + new string('e', 1000), crash.Message, StringComparison.Ordinal);
        Assert.Equal(reason, crash.Reason);
    }
}
