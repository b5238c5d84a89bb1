using Parallelize.Processes;

namespace Parallelize.Processes;

/// <summary>What one run of a <see cref="ProcessExecutor"/> did: the command, its exit code, its output and how long it took.</summary>
public sealed record ProcessResult
{
    /// <summary>Gets the request that was run (the pool's input).</summary>
    public required ProcessRequest Request { get; init; }

    /// <summary>Gets the program that was run.</summary>
    public required string FileName { get; init; }

    /// <summary>Gets every argument the program was given: the executor's leading arguments, then the request's.</summary>
    public required IReadOnlyList<string> Arguments { get; init; }

    /// <summary>Gets the process's exit code. A process killed at its timeout reports the code of its killing signal (137 on Linux).</summary>
    public required int ExitCode { get; init; }

    /// <summary>Gets what the process wrote to its standard output (read as UTF-8); empty when output is not captured.</summary>
    public required string StandardOutput { get; init; }

    /// <summary>Gets what the process wrote to its standard error (read as UTF-8); empty when output is not captured.</summary>
    public required string StandardError { get; init; }

    /// <summary>Gets the time from starting the process to its exit and the end of its output.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>Gets a value indicating whether the run reached <see cref="ProcessExecutorOptions.Timeout"/> and the process (with its children) was killed.</summary>
    public bool TimedOut { get; init; }

    /// <summary>Gets a value indicating whether the process exited with code 0 within its timeout.</summary>
    public bool Succeeded => ExitCode == 0 && !TimedOut;

    /// <summary>Returns the command line and how the run ended, for messages and logs (the output is left out).</summary>
    /// <returns>For example <c>sh -c 'exit 3' exited with code 3 in 4 ms</c>.</returns>
    public override string ToString()
    {
        string command = CommandLine.Format(FileName, Arguments);
        string ended = TimedOut
            ? $"timed out and was killed (exit code {ExitCode})"
            : $"exited with code {ExitCode}";
        return $"{command} {ended} in {Elapsed.TotalMilliseconds:0} ms";
    }
}
