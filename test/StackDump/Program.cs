// Prints the managed stack of every thread of a running .NET process: asks the process's runtime for a small dump
// (through the diagnostics channel, so the runtime runs createdump itself and ptrace restrictions do not get in the
// way), reads each thread's stack from the dump with ClrMD, and deletes the dump.
//
// It runs as a separate process because reading a dump of the process that reads it (the runtime's DAC loaded into
// the test host) crashed the test host; out of process the same dump reads cleanly.
//
//   dotnet StackDump.dll <process id>
using System.Globalization;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Runtime;

if (args.Length != 1 || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int processId))
{
    Console.Error.WriteLine("usage: StackDump <process id>");
    return 2;
}

string path = Path.Combine(Path.GetTempPath(), $"stackdump-{processId}-{Guid.NewGuid():N}.dmp");
try
{
    // Normal: thread stacks and the runtime's own data, not the GC heap; a few megabytes.
    new DiagnosticsClient(processId).WriteDump(DumpType.Normal, path, logDumpGeneration: false);
    using DataTarget target = DataTarget.LoadDump(path);
    using ClrRuntime runtime = target.ClrVersions.Single().CreateRuntime();
    foreach (ClrThread thread in runtime.Threads)
    {
        if (!thread.IsAlive)
        {
            continue;
        }

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"thread {thread.ManagedThreadId} (OS 0x{thread.OSThreadId:x}){(thread.IsFinalizer ? " finalizer" : "")}"));
        int frames = 0;
        foreach (ClrStackFrame frame in thread.EnumerateStackTrace())
        {
            Console.WriteLine($"    {frame.ToString() ?? $"[{frame.Kind}]"}");
            frames++;
        }

        if (frames == 0)
        {
            Console.WriteLine("    (no managed frames)");
        }
    }

    return 0;
}
finally
{
    File.Delete(path);
}
