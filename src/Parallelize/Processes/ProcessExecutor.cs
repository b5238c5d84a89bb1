using System.Diagnostics;
using System.Text;
using Parallelize.Processes;

namespace Parallelize.Processes;

/// <summary>
/// An asynchronous executor that runs an external program once per input: one pool of N of them runs N processes at
/// once, starting the next as each one finishes.
/// </summary>
/// <remarks>
/// <para>Each run starts <see cref="FileName"/> with the executor's <see cref="LeadingArguments"/> followed by the
/// request's <see cref="ProcessRequest.Arguments"/>, passed as a list (never through a shell), writes the request's
/// standard input, reads the standard output and standard error at the same time, and waits for the process to exit
/// and its output to end. The executor holds no thread while a process runs.</para>
/// <para>How a run ends:</para>
/// <list type="bullet">
/// <item><description>exit code 0: a <see cref="ProcessResult"/> in <c>Results</c>;</description></item>
/// <item><description>a non-zero exit code, or <see cref="ProcessExecutorOptions.Timeout"/> reached (the process and
/// its children get SIGTERM, then SIGKILL after <see cref="ProcessExecutorOptions.TerminationGracePeriod"/>): handled as <see cref="ProcessExecutorOptions.OnFailure"/> says — by default the input is
/// retried up to <see cref="ParallelizeOptions.MaxAttempts"/> times in all and then goes to <c>Failures</c>, each
/// attempt's <see cref="RetryException"/> carrying a <see cref="ProcessFailedException"/>; a failing command never
/// restarts or retires the executor;</description></item>
/// <item><description>the pool stops and cancels the call (<c>Stop</c> after its finish timeout): the process and its
/// children get SIGTERM as <c>Stop</c> cancels the call and SIGKILL after the grace period (at once if it is zero), and
/// the input is returned by <c>Stop</c> as aborted, whatever exit code the program ended with. Since each run has a
/// process group of its own (<see cref="ProcessExecutorOptions.NewProcessGroup"/>), a terminal's Ctrl-C does not
/// reach the program: the pool's stop decides, so a Ctrl-C ends runs as aborted inputs, never as failed runs with
/// exit code 130;</description></item>
/// <item><description>the process cannot be started (no such program, no such working directory): an
/// <see cref="ExecutorLostException"/> wrapping the system's error, so the input is not charged an attempt, the executor
/// is blamed under the restart policy, and a pool whose every start fails is faulted rather than running every input to
/// no purpose.</description></item>
/// </list>
/// <para>A run ends when the process has exited and its output has ended: a background child that keeps the output
/// open keeps the run going until it exits or the timeout ends it. Output can be captured (the default), streamed line
/// by line (<see cref="ProcessExecutorOptions.OnOutputLine"/>) or written to a file
/// (<see cref="ProcessRequest.StandardOutputFile"/>). Children that leave the process group (a daemon started with
/// <c>setsid</c>) are not signalled, and neither are processes still running when this program exits without stopping
/// the pool.</para>
/// <para>The executor keeps no state between runs, so it is thread-safe.</para>
/// <example>
/// <code>
/// using var pool = new Parallelize&lt;ProcessRequest, ProcessResult&gt;(
///     ProcessExecutor.Create("gzip", count: 4, ["--keep"], new ProcessExecutorOptions { Timeout = TimeSpan.FromMinutes(5) }));
/// foreach (string file in Directory.EnumerateFiles("logs", "*.log"))
///     pool.Invoke(new ProcessRequest(file));
/// pool.Wait();
/// </code>
/// </example>
/// </remarks>
public sealed class ProcessExecutor : IAsyncExecutor<ProcessRequest, ProcessResult>
{
    /// <summary>
    /// How long the output may stay open after the process was killed (by a child that escaped the kill) before the
    /// run gives up on it and keeps what was read.
    /// </summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Standard input is written without a byte order mark.</summary>
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private readonly string[] _leadingArguments;

    /// <summary>Initializes an executor that runs <paramref name="fileName"/>.</summary>
    /// <param name="fileName">The program: a path, or a name looked up in the <c>PATH</c>.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fileName"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="fileName"/> is empty or white space.</exception>
    public ProcessExecutor(string fileName, ProcessExecutorOptions? options = null)
        : this(fileName, [], options)
    {
    }

    /// <summary>Initializes an executor that runs <paramref name="fileName"/> with <paramref name="leadingArguments"/> before each request's arguments.</summary>
    /// <param name="fileName">The program: a path, or a name looked up in the <c>PATH</c>.</param>
    /// <param name="leadingArguments">Arguments given to every run, before the request's (for example a script to run).</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <exception cref="ArgumentNullException"><paramref name="fileName"/> or <paramref name="leadingArguments"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="fileName"/> is empty or white space, or an argument is <see langword="null"/>.</exception>
    public ProcessExecutor(string fileName, IEnumerable<string> leadingArguments, ProcessExecutorOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        ArgumentNullException.ThrowIfNull(leadingArguments);
        _leadingArguments = [.. leadingArguments];
        if (Array.IndexOf(_leadingArguments, null) >= 0)
        {
            throw new ArgumentException("An argument is null.", nameof(leadingArguments));
        }

        FileName = fileName;
        Options = options ?? new ProcessExecutorOptions();
    }

    /// <summary>Gets the program this executor runs.</summary>
    public string FileName { get; }

    /// <summary>Gets the arguments given to every run, before the request's.</summary>
    public IReadOnlyList<string> LeadingArguments => _leadingArguments;

    /// <summary>Gets the options.</summary>
    public ProcessExecutorOptions Options { get; }

    /// <summary>
    /// Creates <paramref name="count"/> executors for <paramref name="fileName"/>, to pass to a pool that runs that
    /// many processes at once: <c>new Parallelize&lt;ProcessRequest, ProcessResult&gt;(ProcessExecutor.Create("convert", 4))</c>.
    /// </summary>
    /// <param name="fileName">The program: a path, or a name looked up in the <c>PATH</c>.</param>
    /// <param name="count">How many executors, that is how many processes may run at once.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The executors.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="fileName"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="fileName"/> is empty or white space.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public static IReadOnlyList<ProcessExecutor> Create(string fileName, int count, ProcessExecutorOptions? options = null) =>
        Create(fileName, count, [], options);

    /// <summary>
    /// Creates <paramref name="count"/> executors for <paramref name="fileName"/> with <paramref name="leadingArguments"/>
    /// before each request's arguments, to pass to a pool that runs that many processes at once.
    /// </summary>
    /// <param name="fileName">The program: a path, or a name looked up in the <c>PATH</c>.</param>
    /// <param name="count">How many executors, that is how many processes may run at once.</param>
    /// <param name="leadingArguments">Arguments given to every run, before the request's.</param>
    /// <param name="options">The options; <see langword="null"/> for the defaults.</param>
    /// <returns>The executors.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="fileName"/> or <paramref name="leadingArguments"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="fileName"/> is empty or white space, or an argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is less than 1.</exception>
    public static IReadOnlyList<ProcessExecutor> Create(string fileName, int count, IEnumerable<string> leadingArguments, ProcessExecutorOptions? options = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var first = new ProcessExecutor(fileName, leadingArguments, options);
        var executors = new ProcessExecutor[count];
        executors[0] = first;
        for (int i = 1; i < count; i++)
        {
            executors[i] = new ProcessExecutor(first.FileName, first._leadingArguments, first.Options);
        }

        return executors;
    }

    /// <summary>Runs the program once for <paramref name="input"/>.</summary>
    /// <param name="input">The request: arguments, and optionally standard input and working directory.</param>
    /// <param name="cancellationToken">Cancelled when the pool stops the call; the process and its children are then killed.</param>
    /// <returns>The run's result.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="input"/> is <see langword="null"/>.</exception>
    /// <exception cref="RetryException">The run failed and <see cref="ProcessExecutorOptions.OnFailure"/> is <see cref="ProcessFailureHandling.Fail"/>; its inner exception is the <see cref="ProcessFailedException"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the process was killed.</exception>
    /// <exception cref="ExecutorLostException">The process could not be started; its inner exception says why.</exception>
    public async ValueTask<ProcessResult> ExecuteAsync(ProcessRequest input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        cancellationToken.ThrowIfCancellationRequested();

        bool ownGroup = Options.NewProcessGroup && ProgramPath.SetSidPath is not null;
        ProcessStartInfo start;
        try
        {
            start = CreateStartInfo(input, ownGroup);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw CouldNotStart(ex); // the program was looked up for setsid, and is missing
        }

        var output = new StringBuilder();
        var error = new StringBuilder();
        using var process = new Process { StartInfo = start };
        TimeProvider clock = Options.TimeProvider;
        using var timeout = new CancellationTokenSource(System.Threading.Timeout.InfiniteTimeSpan, clock);
        using var stopOrTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);

        // Cancelled once the run is over, to release a read or write held up by a pipe that a child which escaped
        // the kill still keeps open.
        using var abandon = new CancellationTokenSource();
        long started = clock.GetTimestamp();
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw CouldNotStart(ex);
        }

        using var termination = new ProcessTermination(process, ownGroup, Options.TerminationGracePeriod, clock);

        // Terminated inside the pool's Stop, as it cancels the token: SIGTERM at once, SIGKILL after the grace period
        // (at once, with no grace period). Disposed before the process: waits for a running signal.
        using CancellationTokenRegistration terminateOnStop = cancellationToken.UnsafeRegister(static state => ((ProcessTermination)state!).Terminate(), termination);
        bool timedOut = false;
        try
        {
            if (Options.Timeout is { } limit)
            {
                timeout.CancelAfter(limit);
            }

            Task writing = WriteInputAsync(process.StandardInput, input.StandardInput, abandon.Token);
            Task reading = start.RedirectStandardOutput
                ? Task.WhenAll(
                    input.StandardOutputFile is { } file
                        ? CopyToFileAsync(process.StandardOutput, file, abandon.Token)
                        : ReadAsync(process.StandardOutput, output, input, isError: false, abandon.Token),
                    ReadAsync(process.StandardError, error, input, isError: true, abandon.Token))
                : Task.CompletedTask;
            try
            {
                await process.WaitForExitAsync(stopOrTimeout.Token).ConfigureAwait(false);
                await reading.WaitAsync(stopOrTimeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopOrTimeout.IsCancellationRequested)
            {
                termination.Terminate(); // the timeout's; on Stop the registration has begun it already
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                if (!cancellationToken.IsCancellationRequested)
                {
                    // The rest of the tree had SIGTERM too; keep what it wrote before it ended.
                    timedOut = true;
                    await Task.WhenAny(reading, Task.Delay(DrainTimeout, CancellationToken.None)).ConfigureAwait(false);
                }

                // Whatever of the tree is left now gets no more time.
                termination.KillNow();
            }

            await abandon.CancelAsync().ConfigureAwait(false);
            await reading.ConfigureAwait(false);
            await writing.ConfigureAwait(false);
        }
        finally
        {
            if (!process.HasExited)
            {
                // Only reached when something above threw unexpectedly: never leave a process behind.
                termination.KillNow();
            }
        }

        // Stop may cancel the token just as the process ends on its own: the run is then aborted all the same, so
        // that the exit code of a process ended by a signal is never taken for a result.
        if (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException($"The pool stopped the run and ended it: {CommandLine.Format(FileName, Arguments(start, ownGroup))}", cancellationToken);
        }

        var result = new ProcessResult
        {
            Request = input,
            FileName = FileName,
            Arguments = Arguments(start, ownGroup),
            ExitCode = process.ExitCode,
            StandardOutput = output.ToString(),
            StandardError = error.ToString(),
            Elapsed = clock.GetElapsedTime(started),
            TimedOut = timedOut,
        };
        if (!result.Succeeded && Options.OnFailure == ProcessFailureHandling.Fail)
        {
            var failed = new ProcessFailedException(result);
            throw new RetryException(failed.Message, failed);
        }

        return result;
    }

    /// <summary>
    /// The program (or the working directory) is missing: the executor's fault, not the input's. The pool blames and
    /// restarts the executor and retires it when it keeps failing, so a pool whose every start fails faults instead of
    /// running every input to no purpose.
    /// </summary>
    private ExecutorLostException CouldNotStart(System.ComponentModel.Win32Exception ex) =>
        new($"{FileName} could not be started: {ex.Message}", ex);

    /// <summary>The program's own arguments: without the <c>setsid</c> wrapper's first one (the program).</summary>
    private static string[] Arguments(ProcessStartInfo start, bool ownGroup) => [.. start.ArgumentList.Skip(ownGroup ? 1 : 0)];

    private ProcessStartInfo CreateStartInfo(ProcessRequest input, bool ownGroup)
    {
        string workingDirectory = input.WorkingDirectory ?? Options.WorkingDirectory ?? string.Empty;
        bool redirect = Options.CaptureOutput || Options.OnOutputLine is not null || input.StandardOutputFile is not null;
        var start = new ProcessStartInfo(ownGroup ? ProgramPath.SetSidPath! : FileName)
        {
            UseShellExecute = false,
            CreateNoWindow = true,
            RedirectStandardInput = true,
            RedirectStandardOutput = redirect,
            RedirectStandardError = redirect,
            WorkingDirectory = workingDirectory,
        };
        if (redirect)
        {
            start.StandardOutputEncoding = Utf8;
            start.StandardErrorEncoding = Utf8;
        }

        if (ownGroup)
        {
            // setsid runs the program in a new session (and process group) without forking, so the pid is the
            // program's. Looked up first, so that a missing program still fails to start rather than exiting 1.
            start.ArgumentList.Add(ProgramPath.Resolve(FileName, workingDirectory.Length == 0 ? null : workingDirectory));
        }

        foreach (string argument in _leadingArguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (string argument in input.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (Options.Environment is { } environment)
        {
            foreach ((string name, string? value) in environment)
            {
                if (value is null)
                {
                    start.Environment.Remove(name);
                }
                else
                {
                    start.Environment[name] = value;
                }
            }
        }

        return start;
    }

    /// <summary>Writes the request's input and closes the stream, so that the process sees its end.</summary>
    private static async Task WriteInputAsync(StreamWriter stdin, string? text, CancellationToken cancellationToken)
    {
        try
        {
            if (text is not null)
            {
                await stdin.BaseStream.WriteAsync(Utf8.GetBytes(text), cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The process exited (or was killed) without reading all of its input: not this run's concern.
        }
        finally
        {
            try
            {
                stdin.Dispose();
            }
            catch (IOException)
            {
                // Closing a pipe whose reader is gone.
            }
        }
    }

    /// <summary>
    /// Appends everything the process writes to <paramref name="sink"/> until the stream ends, or hands it line by line
    /// to <see cref="ProcessExecutorOptions.OnOutputLine"/> when there is one.
    /// </summary>
    private async Task ReadAsync(StreamReader reader, StringBuilder sink, ProcessRequest request, bool isError, CancellationToken cancellationToken)
    {
        try
        {
            if (Options.OnOutputLine is { } onLine)
            {
                while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
                {
                    onLine(new ProcessOutputLine(request, line, isError));
                }

                return;
            }

            if (!Options.CaptureOutput)
            {
                // Redirected only for another stream's sake: read and drop, so that the program never blocks on it.
                await reader.BaseStream.CopyToAsync(Stream.Null, cancellationToken).ConfigureAwait(false);
                return;
            }

            char[] buffer = new char[4096];
            int read;
            while ((read = await reader.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                sink.Append(buffer, 0, read);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Given up on after a kill: what was read is kept.
        }
    }

    /// <summary>Copies the standard output to <paramref name="path"/> (created, or emptied) until it ends.</summary>
    private static async Task CopyToFileAsync(StreamReader reader, string path, CancellationToken cancellationToken)
    {
        var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, bufferSize: 64 * 1024, useAsync: true);
        await using (file.ConfigureAwait(false))
        {
            try
            {
                await reader.BaseStream.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Given up on after a kill: what was written stays in the file.
            }
        }
    }
}
