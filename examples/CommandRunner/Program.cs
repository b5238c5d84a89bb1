// The seed's two ways of running an external program in parallel, on a pool of ProcessExecutors (one process each).
//
// stream (the default): a fixed number of processes at once over a lazily generated stream of arguments 1..--count;
// as each process exits the next starts, and every exit code and output is collected and printed as it arrives. The
// default program is a small sh worker that sleeps 0-90 ms, prints the square of its argument, and exits with code 3
// for every --fail-every-th argument, so that non-zero exits show up as collected results. After "--", any program
// and leading arguments of your own: the stream's argument is appended to them (no shell is involved).
//
// batch: the seed's map, then fold. A batch of `seq` processes writes --files sorted files (file i holds i, i+N, ...)
// and the pool is waited for; then the files are merged pairwise with `sort -m`, one batch per round, waiting for
// each round, until one file remains, which must hold 1..files*lines in order.
//
// Ctrl-C (exit 130) or SIGTERM (exit 143) stops the pool: the processes still running after --finish-timeout-ms are
// killed with their children, and every call is accounted for as aborted, a result, or a failure. In a terminal,
// Ctrl-C also reaches the running programs (they share the terminal's process group), so most end on their own with
// exit code 130 and are collected as such; a SIGTERM sent to this process alone leaves them to the pool.
//
//   dotnet run --project examples/CommandRunner -c Release -- [stream] [--processes N] [--count N] [--fail-every N] [--timeout-ms N] [--finish-timeout-ms N] [-- PROGRAM [ARGS...]]
//   dotnet run --project examples/CommandRunner -c Release -- batch [--processes N] [--files N] [--lines N] [--finish-timeout-ms N]
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Parallelize.Processes;
using Parallelize;

const string Usage =
    "usage: CommandRunner [stream] [--processes N>0] [--count N] [--fail-every N] [--timeout-ms N] [--finish-timeout-ms N] [-- PROGRAM [ARGS...]]\n"
    + "       CommandRunner batch [--processes N>0] [--files N>0] [--lines N>0] [--finish-timeout-ms N]";

// $1 is --fail-every, $2 the stream's argument.
const string Worker =
    """
    n=$2
    sleep "0.0$(( n * 7 % 10 ))"
    if [ "$1" -gt 0 ] && [ $(( n % $1 )) -eq 0 ]; then echo "item $n fails on purpose" >&2; exit 3; fi
    echo $(( n * n ))
    """;

bool batchMode = args.Length > 0 && args[0] == "batch";
List<string> rest = [.. args.Length > 0 && args[0] is "batch" or "stream" ? args[1..] : args];
int separator = rest.IndexOf("--");
string[] command = separator < 0 ? [] : [.. rest[(separator + 1)..]];
if (separator >= 0)
{
    rest.RemoveRange(separator, rest.Count - separator);
}

Dictionary<string, int>? options = batchMode
    ? ExampleOptions.Parse([.. rest], new() { ["--processes"] = 4, ["--files"] = 16, ["--lines"] = 1000, ["--finish-timeout-ms"] = 1000 })
    : ExampleOptions.Parse([.. rest], new() { ["--processes"] = 4, ["--count"] = 40, ["--fail-every"] = 7, ["--timeout-ms"] = 0, ["--finish-timeout-ms"] = 1000 });
if (options is null
    || options["--processes"] < 1
    || (batchMode && (command.Length > 0 || options["--files"] < 1 || options["--lines"] < 1))
    || (!batchMode && separator >= 0 && command.Length == 0))
{
    Console.Error.WriteLine(Usage);
    return 2;
}

// Ctrl-C and SIGTERM, as in the Sleepers example: the first stops the pool gracefully, a second exits at once.
using var stopping = new CancellationTokenSource();
int exitCode = 0;

void OnSignal(int code)
{
    if (Interlocked.Exchange(ref exitCode, code) != 0)
    {
        Environment.Exit(code);
    }

    // Not inline: this handler must return for a second signal to be delivered.
    _ = stopping.CancelAsync();
}

Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    OnSignal(130);
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    OnSignal(143);
});

int processes = options["--processes"];
var finishTimeout = TimeSpan.FromMilliseconds(options["--finish-timeout-ms"]);
int status = batchMode
    ? await RunBatchAsync(processes, options["--files"], options["--lines"], finishTimeout, stopping.Token)
    : await RunStreamAsync(processes, options["--count"], options["--fail-every"], options["--timeout-ms"], command, finishTimeout, stopping.Token);
Interlocked.CompareExchange(ref exitCode, status, 0); // a signal's exit code wins
return Volatile.Read(ref exitCode);

// The seed's launch_fixed_processes: keep N processes running over a stream of arguments, topping up as each exits.
static async Task<int> RunStreamAsync(
    int processes, int count, int failEvery, int timeoutMs, string[] command, TimeSpan finishTimeout, CancellationToken stopping)
{
    bool ownProgram = command.Length > 0;
    string program = ownProgram ? command[0] : "sh";
    string[] leading = ownProgram ? command[1..] : ["-c", Worker, "worker", failEvery.ToString(CultureInfo.InvariantCulture)];
    var processOptions = new ProcessExecutorOptions
    {
        // Collect every exit code as a result, non-zero ones included.
        OnFailure = ProcessFailureHandling.ReturnResult,
        Timeout = timeoutMs > 0 ? TimeSpan.FromMilliseconds(timeoutMs) : null,
    };

    // Bounded: the stream of arguments is read only as fast as processes become free. In a terminal, a live progress
    // bar fed by the pool's progress reports, with the results printed above it; redirected output is unchanged.
    ConsoleProgress? bar = ConsoleProgress.StartIfTerminal("commands", count);
    using var pool = new Parallelize<ProcessRequest, ProcessResult>(
        ProcessExecutor.Create(program, processes, leading, processOptions),
        new ParallelizeOptions { BoundedCapacity = processes, Name = "commands", Progress = bar, ProgressInterval = ConsoleProgress.Interval });
    ConsoleProgress.WriteLine(bar, $"running {(ownProgram ? string.Join(' ', command) : "the sh worker")} over {count} arguments, {processes} processes at once");

    var clock = Stopwatch.StartNew();
    Task printing = Task.Run(async () =>
    {
        await foreach (ProcessResult result in pool.ReadResultsAsync(CancellationToken.None))
        {
            string output = result.StandardOutput.Trim().ReplaceLineEndings(" | ");
            string error = result.StandardError.Trim().ReplaceLineEndings(" | ");
            string timedOut = result.TimedOut ? " (timed out, killed)" : "";
            ConsoleProgress.WriteLine(bar, $"  {result.Request.Arguments[0],5}: exit {result.ExitCode}{timedOut} after {result.Elapsed.TotalMilliseconds,4:0} ms  {output}{(error.Length > 0 ? $"  [stderr: {error}]" : "")}");
        }
    }, CancellationToken.None); // reads to the stream's end, which Stop brings about

    int queued = 0;
    try
    {
        foreach (string argument in Arguments(count))
        {
            stopping.ThrowIfCancellationRequested();
            await pool.InvokeAsync(new ProcessRequest(argument), stopping);
            queued++;
        }

        pool.Complete();
        await pool.WaitAsync(stopping);
    }
    catch (OperationCanceledException) when (stopping.IsCancellationRequested)
    {
        ConsoleProgress.WriteLine(bar, $"Stopping: running processes get {finishTimeout.TotalMilliseconds:0} ms to finish, then they are killed...");
    }
    finally
    {
        IReadOnlyList<ProcessRequest> aborted = pool.Stop(finishTimeout);
        await printing;
        bar?.Dispose(); // the pool's last report has ended the bar
        Console.WriteLine($"aborted {aborted.Count} + results {pool.Results.Count} + failures {pool.Failures.Count} = {aborted.Count + pool.Results.Count + pool.Failures.Count} calls (queued {queued})");
        foreach (Failure<ProcessRequest> failure in pool.Failures)
        {
            Console.Error.WriteLine($"error: {failure.Input}: {failure.Exceptions[^1].Message}");
        }
    }

    IReadOnlyList<ProcessResult> results = pool.Results;
    double busyMs = results.Sum(r => r.Elapsed.TotalMilliseconds);
    Console.WriteLine($"ran {results.Count} commands in {clock.ElapsedMilliseconds} ms wall time; their run times add up to {busyMs:0} ms ({busyMs / Math.Max(clock.Elapsed.TotalMilliseconds, 1):0.0}x)");
    Console.WriteLine("exit codes: " + string.Join(", ", results.GroupBy(r => r.ExitCode).OrderBy(g => g.Key).Select(g => $"{g.Key} x{g.Count()}")));
    if (!ownProgram)
    {
        long sum = results.Where(r => r.Succeeded).Sum(r => long.Parse(r.StandardOutput, CultureInfo.InvariantCulture));
        Console.WriteLine($"sum of the outputs of exit code 0: {sum}");
    }

    return pool.Failures.Count > 0 ? 1 : 0;
}

// The seed's join_multiple_processes, then its fold: run a batch and wait for it, then merge the outputs pairwise.
static async Task<int> RunBatchAsync(int processes, int files, int lines, TimeSpan finishTimeout, CancellationToken stopping)
{
    DirectoryInfo dir = Directory.CreateTempSubdirectory("commandrunner-");
    var clock = Stopwatch.StartNew();
    try
    {
        // Map: file i holds i, i + files, i + 2 * files, ... (lines numbers), as `seq` prints them.
        List<string> current;
        var map = Stopwatch.StartNew();
        using (var seq = new Parallelize<ProcessRequest, ProcessResult>(ProcessExecutor.Create("seq", processes)))
        {
            for (int i = 1; i <= files; i++)
            {
                seq.Invoke(new ProcessRequest(Text(i), Text(files), Text((long)files * lines)));
            }

            if (!await WaitForBatchAsync(seq, finishTimeout, stopping))
            {
                return 1;
            }

            current = [];
            foreach (ProcessResult result in seq.Results.OrderBy(r => int.Parse(r.Request.Arguments[0], CultureInfo.InvariantCulture)))
            {
                string path = Path.Combine(dir.FullName, $"map-{result.Request.Arguments[0]}.txt");
                await File.WriteAllTextAsync(path, result.StandardOutput, CancellationToken.None);
                current.Add(path);
            }
        }

        Console.WriteLine($"map: {files} seq processes ({processes} at once) wrote {files} files of {lines} lines in {map.ElapsedMilliseconds} ms");

        // Fold: merge pairs of sorted files with `sort -m`, one round (a batch) at a time, until one file is left.
        var environment = new Dictionary<string, string?> { ["LC_ALL"] = "C" };
        using var sort = new Parallelize<ProcessRequest, ProcessResult>(
            ProcessExecutor.Create("sort", processes, ["-n", "-m"], new ProcessExecutorOptions { Environment = environment }));
        int round = 0;
        while (current.Count > 1)
        {
            round++;
            var roundClock = Stopwatch.StartNew();
            List<string> next = [];
            for (int i = 0; i + 1 < current.Count; i += 2)
            {
                string merged = Path.Combine(dir.FullName, $"round{round}-{i / 2}.txt");
                sort.Invoke(new ProcessRequest(current[i], current[i + 1], "-o", merged));
                next.Add(merged);
            }

            if (current.Count % 2 == 1)
            {
                next.Add(current[^1]); // the odd one out waits for the next round
            }

            if (!await WaitForBatchAsync(sort, finishTimeout, stopping))
            {
                return 1;
            }

            Console.WriteLine($"round {round}: {current.Count} files -> {next.Count} in {roundClock.ElapsedMilliseconds} ms");
            current = next;
        }

        long expected = (long)files * lines;
        long seen = 0;
        bool inOrder = true;
        foreach (string line in File.ReadLines(current[0]))
        {
            seen++;
            inOrder &= line == Text(seen);
        }

        inOrder &= seen == expected;
        Console.WriteLine($"merged {files} files in {round} rounds: {seen} lines, 1..{expected} in order: {(inOrder ? "OK" : "WRONG")}");
        Console.WriteLine($"elapsed {clock.ElapsedMilliseconds} ms");
        return inOrder ? 0 : 1;
    }
    finally
    {
        dir.Delete(recursive: true);
    }
}

// Waits for the batch queued so far. On Ctrl-C/SIGTERM, or if a command failed, stops the pool and says why.
static async Task<bool> WaitForBatchAsync(Parallelize<ProcessRequest, ProcessResult> pool, TimeSpan finishTimeout, CancellationToken stopping)
{
    try
    {
        await pool.WaitAsync(stopping);
    }
    catch (OperationCanceledException) when (stopping.IsCancellationRequested)
    {
        Console.WriteLine($"Stopping: running processes get {finishTimeout.TotalMilliseconds:0} ms to finish, then they are killed...");
        IReadOnlyList<ProcessRequest> aborted = pool.Stop(finishTimeout);
        Console.WriteLine($"aborted {aborted.Count} + results {pool.Results.Count} + failures {pool.Failures.Count} = {aborted.Count + pool.Results.Count + pool.Failures.Count} calls");
        return false;
    }

    foreach (Failure<ProcessRequest> failure in pool.Failures)
    {
        Console.Error.WriteLine($"error: {failure.Input} failed {failure.Attempts} time(s): {failure.Exceptions[^1].Message}");
    }

    return pool.Failures.Count == 0;
}

// The seed's example_arg_generator: arguments made one at a time, as the pool asks for them.
static IEnumerable<string> Arguments(int count)
{
    for (int i = 1; i <= count; i++)
    {
        yield return Text(i);
    }
}

static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);
