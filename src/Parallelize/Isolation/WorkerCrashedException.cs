using System.Globalization;
using System.Text;

namespace Parallelize.Isolation;

/// <summary>
/// The worker process of an isolated executor was lost while it ran a call (or created its executor): it crashed,
/// was killed, or ran past its deadline. Carries how it ended and the last lines it wrote to standard error.
/// </summary>
/// <remarks>
/// <para>The call's input is blamed: it uses an attempt, and after <see cref="ParallelizeOptions.MaxAttempts"/> such
/// attempts (or <see cref="IsolationOptions.MaxCrashesPerInput"/> crashes) it ends in <c>Failures</c>. The executor is
/// restarted in a new worker process.</para>
/// <para>A process killed by a signal reports exit code 128 + the signal's number on Linux and macOS, and
/// <see cref="Signal"/> decodes it (137 is SIGKILL, 134 SIGABRT, which is how .NET ends a process on
/// <c>Environment.FailFast</c>, a stack overflow or an unhandled exception). A process that called <c>exit(137)</c>
/// itself cannot be told apart.</para>
/// </remarks>
public sealed class WorkerCrashedException : Exception
{
    /// <summary>Initializes a new instance with a default message.</summary>
    public WorkerCrashedException()
        : this("The worker process of an isolated executor was lost.")
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public WorkerCrashedException(string message)
        : base(message)
    {
        StandardErrorTail = string.Empty;
    }

    /// <summary>Initializes a new instance with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public WorkerCrashedException(string message, Exception innerException)
        : base(message, innerException)
    {
        StandardErrorTail = string.Empty;
    }

    internal WorkerCrashedException(WorkerExit exit, string during, Exception? innerException = null)
        : base(Describe(exit, during), innerException)
    {
        ProcessId = exit.ProcessId;
        ExitCode = exit.ExitCode;
        Signal = exit.Signal;
        Reason = exit.Reason;
        StandardErrorTail = exit.StandardErrorTail;
    }

    /// <summary>Gets the id the worker process had; 0 when it never started.</summary>
    public int ProcessId { get; }

    /// <summary>Gets the process's exit code; <see langword="null"/> when it never started.</summary>
    public int? ExitCode { get; }

    /// <summary>Gets the number of the signal that killed the process (9 for SIGKILL, 6 for SIGABRT), decoded from an exit code of 128 + n; <see langword="null"/> if it exited with a code of its own.</summary>
    public int? Signal { get; }

    /// <summary>Gets the signal's name (<c>SIGKILL</c>), or <see langword="null"/>.</summary>
    public string? SignalName => Signal is { } signal ? SignalNames.Name(signal) : null;

    /// <summary>Gets why the process was lost.</summary>
    public WorkerExitReason Reason { get; }

    /// <summary>Gets the last bytes the process wrote to standard error (by default up to 4 KB), as text.</summary>
    public string StandardErrorTail { get; }

    private static string Describe(WorkerExit exit, string during)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"The worker process {exit.ProcessId} ");
        text.Append(exit.Reason switch
        {
            WorkerExitReason.CallTimeout => "ran past its call timeout and was killed",
            WorkerExitReason.StartTimeout => "did not start in time and was killed",
            WorkerExitReason.ProtocolError => "broke the protocol and was killed",
            WorkerExitReason.StartFailed => "could not be started",
            WorkerExitReason.Shutdown => "was shut down",
            _ => "died",
        });
        text.Append(' ').Append(during);
        if (exit.Signal is { } signal)
        {
            text.Append(CultureInfo.InvariantCulture, $" (killed by {SignalNames.Name(signal)}, exit code {exit.ExitCode})");
        }
        else if (exit.ExitCode is { } code)
        {
            text.Append(CultureInfo.InvariantCulture, $" (exit code {code})");
        }

        text.Append('.');
        string tail = exit.StandardErrorTail.Trim();
        if (tail.Length > 0)
        {
            const int Quoted = 1000;
            if (tail.Length > Quoted)
            {
                tail = string.Concat("…", tail.AsSpan(tail.Length - Quoted));
            }

            text.Append(" Standard error: ").Append(tail);
        }

        return text.ToString();
    }
}
