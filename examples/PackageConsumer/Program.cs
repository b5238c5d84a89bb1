// An application that uses Parallelize through its NuGet package: squares 1..N on four executors, where squaring 13
// always throws (so 13 ends in Failures after its attempts), and accounts for every call.
//
//   dotnet pack src/Parallelize -c Release -o artifacts/packages
//   dotnet run --project examples/PackageConsumer -c Release -- [N]
using System.Globalization;
using System.Reflection;
using Parallelize;

int calls = 1000;
if (args.Length > 1 || (args.Length == 1 && (!int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out calls) || calls < 1)))
{
    Console.Error.WriteLine("usage: PackageConsumer [N>0]");
    return 2;
}

Assembly library = typeof(Parallelize<,>).Assembly;
string? version = library.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
Console.WriteLine($"Parallelize {version}");

static long Square(int x) => x == 13 ? throw new InvalidOperationException("13 is unlucky.") : (long)x * x;

using var pool = new Parallelize<int, long>(Square, count: 4, new ParallelizeOptions { MaxAttempts = 2 });
for (int i = 1; i <= calls; i++)
{
    pool.Invoke(i);
}

pool.Wait();
IReadOnlyList<int> aborted = pool.Stop();
Console.WriteLine($"results {pool.Results.Count} + failures {pool.Failures.Count} + aborted {aborted.Count} = calls {calls}");
Console.WriteLine($"sum of squares: {pool.Results.Sum()}");
foreach (Failure<int> failure in pool.Failures)
{
    Console.WriteLine($"failed: {failure.Input} after {failure.Attempts} attempts ({failure.Exceptions[^1].GetType().Name})");
}

return 0;
