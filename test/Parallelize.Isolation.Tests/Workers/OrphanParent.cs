using System.Globalization;

namespace Parallelize.Isolation.Tests.Workers;

/// <summary>
/// A parent program for the orphan test: starts three isolated workers that each start a grandchild
/// (<c>sleep 1000</c>) and block, writes its own pid when all three have reported, and waits to be killed.
/// </summary>
public static class OrphanParent
{
    public const string Mode = "--orphan-parent";

    public static int Run(string directory)
    {
        IsolatedExecutors<Job, Reply> workers = Isolated.Create<ScriptedExecutor, Job, Reply>(3);
        var pool = new Parallelize<Job, Reply>(workers);
        for (int i = 0; i < 3; i++)
        {
            pool.Invoke(new Job(i, "grandchild", Ready: Path.Combine(directory, $"worker-{i}")));
        }

        DateTime deadline = DateTime.UtcNow.AddMinutes(1);
        while (Enumerable.Range(0, 3).Any(i => !File.Exists(Path.Combine(directory, $"worker-{i}"))))
        {
            if (DateTime.UtcNow > deadline)
            {
                return 1;
            }

            Thread.Sleep(5);
        }

        ScriptedExecutor.MarkReady(Path.Combine(directory, "parent"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Thread.Sleep(Timeout.Infinite);
        GC.KeepAlive(pool);
        return 0;
    }
}
