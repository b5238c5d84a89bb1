using Parallelize.Isolation;
using Parallelize.Isolation.Tests.Workers;

namespace Parallelize.Isolation.Tests;

/// <summary>
/// The test assembly's own entry point. The test host never calls it; isolated executors run it as their worker
/// program, and one test runs it as a parent program (<see cref="OrphanParent"/>) that it then kills.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        IsolatedWorker.RunIfWorker(args);
        if (args is [OrphanParent.Mode, var directory])
        {
            return OrphanParent.Run(directory);
        }

        Console.Error.WriteLine("This is a test assembly: run it with dotnet test.");
        return 2;
    }
}
