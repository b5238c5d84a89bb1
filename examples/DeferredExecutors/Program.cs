// The deferred-executor demo of the original Parallelize: executors with a slow start-up are created inside the
// pool, each on its own worker thread, so their start-ups overlap instead of adding up.
//
//   dotnet run --project examples/DeferredExecutors -c Release -- [--executors N] [--calls N] [--init-ms N] [--quiet]
using System.Diagnostics;
using System.Globalization;
using Parallelize;

bool verbose = !args.Contains("--quiet");
var options = ExampleOptions.Parse([.. args.Where(arg => arg != "--quiet")], new()
{
    ["--executors"] = 50,
    ["--calls"] = 250,
    ["--init-ms"] = 200,
});
if (options is null || options["--executors"] < 1)
{
    Console.Error.WriteLine("usage: DeferredExecutors [--executors N>0] [--calls N] [--init-ms N] [--quiet]");
    return 2;
}

int executorCount = options["--executors"];
int calls = options["--calls"];
int initMs = options["--init-ms"];

var deferred = Enumerable.Range(0, executorCount)
    .Select(i => Deferred.Create(() => new ExampleExecutor(i.ToString(CultureInfo.InvariantCulture), initMs, verbose)));

var clock = Stopwatch.StartNew();
using var pool = new Parallelize<int, string>(deferred);
try
{
    // Executors waits until every deferred executor has been created.
    var executors = pool.Executors.Cast<ExampleExecutor>().ToList();
    Console.WriteLine(
        $"{executors.Count} executors on {executors.Select(e => e.ThreadId).Distinct().Count()} threads "
        + $"initialized in {clock.ElapsedMilliseconds} ms (serially: {executorCount} x {initMs} = {(long)executorCount * initMs} ms)");

    for (int i = 0; i < calls; i++)
    {
        pool.Invoke(i);
    }

    pool.Wait();
    Console.WriteLine($"{pool.Results.Count} results, first few: {string.Join(", ", pool.Results.Take(5))}");
}
finally
{
    pool.Stop();
    Console.WriteLine("after stop");
}

return 0;

/// <summary>A callable executor with a slow start-up, such as one that opens a connection.</summary>
internal sealed class ExampleExecutor : IExecutor<int, string>, IDisposable
{
    private readonly bool _verbose;

    public ExampleExecutor(string name, int initMs, bool verbose)
    {
        Name = name;
        ThreadId = Environment.CurrentManagedThreadId;
        _verbose = verbose;
        Thread.Sleep(initMs);
        if (verbose)
        {
            Console.WriteLine($"{name}.ctor on thread {ThreadId}");
        }
    }

    public string Name { get; }

    /// <summary>Gets the thread the pool created this executor on, to show that factories ran in parallel.</summary>
    public int ThreadId { get; }

    public string Execute(int input, CancellationToken cancellationToken) => $"{Name}({input})";

    public void Dispose()
    {
        if (_verbose)
        {
            Console.WriteLine($"{Name}.Dispose");
        }
    }
}
