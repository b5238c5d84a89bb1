namespace Parallelize.Isolation;

/// <summary>
/// The worker side of process isolation. Isolated executors run in worker processes that are this program started
/// again with a marker argument; the first line of <c>Main</c> hands such a process over to the worker:
/// <code>
/// static int Main(string[] args)
/// {
///     IsolatedWorker.RunIfWorker(args);   // in a worker process: serves calls, then exits; never returns
///     // … the program as usual
/// }
/// </code>
/// </summary>
/// <remarks>
/// <para>In a worker process <see cref="RunIfWorker"/> makes the process the leader of its own process group, moves
/// the protocol off standard input and output (standard output then goes to standard error, and standard input reads
/// nothing, so stray writes by user or native code cannot corrupt the protocol, and programs the executor starts do
/// not inherit it), creates the executor, serves calls one at a time, and exits when asked to. When the parent
/// process dies, however it dies, the worker sees its input end within about a millisecond and kills its process
/// group, itself and its children with it.</para>
/// <para>Put the line before anything that could be slow or have side effects: everything before it runs in every
/// worker too.</para>
/// <para>On Windows the protocol stays on standard input and output (no descriptors are moved and there are no process
/// groups), so there a worker must not write to standard output, and its children are not killed with it.</para>
/// </remarks>
public static class IsolatedWorker
{
    /// <summary>The argument that marks a worker process.</summary>
    internal const string Marker = "--parallelize-isolated-worker";

    /// <summary>Gets a value indicating whether this process is a worker process (its arguments start with the marker).</summary>
    public static bool IsWorker { get; private set; }

    /// <summary>
    /// Serves as a worker and exits if <paramref name="args"/> start with the worker marker; otherwise returns at once
    /// and does nothing.
    /// </summary>
    /// <param name="args">The arguments <c>Main</c> received.</param>
    /// <exception cref="ArgumentNullException"><paramref name="args"/> is <see langword="null"/>.</exception>
    public static void RunIfWorker(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length == 0 || args[0] != Marker)
        {
            return;
        }

        IsWorker = true;
        int code = WorkerHost.Run();
        Environment.Exit(code);
    }
}
