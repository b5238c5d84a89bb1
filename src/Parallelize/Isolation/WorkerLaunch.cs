using System.Diagnostics;
using System.Reflection;

namespace Parallelize.Isolation;

/// <summary>
/// How to start a worker: the user's own program again, with the marker argument that makes
/// <see cref="IsolatedWorker.RunIfWorker"/> serve instead of returning.
/// </summary>
/// <remarks>
/// An application host (a published app, or <c>dotnet run</c>'s apphost) is started as it is. Under the <c>dotnet</c>
/// host (<c>dotnet app.dll</c>, <c>dotnet test</c>), or when the worker program is not the entry assembly (a test
/// host), the child is <c>dotnet exec --runtimeconfig app.runtimeconfig.json --depsfile app.deps.json app.dll</c>, so
/// that it resolves the same runtime and dependencies as the parent.
/// </remarks>
internal sealed class WorkerLaunch
{
    private WorkerLaunch(string fileName, IReadOnlyList<string> arguments)
    {
        FileName = fileName;
        Arguments = arguments;
    }

    public string FileName { get; }

    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Chooses the worker program: the one the options name, else the entry assembly, else (under a test host) the executor's assembly.</summary>
    public static Assembly ChooseAssembly(Assembly? configured, Assembly executorAssembly)
    {
        if (configured is not null)
        {
            return configured;
        }

        Assembly? entry = Assembly.GetEntryAssembly();
        string? name = entry?.GetName().Name;
        bool isTestHost = name is null
            || name.Equals("testhost", StringComparison.OrdinalIgnoreCase)
            || name.StartsWith("testhost.", StringComparison.OrdinalIgnoreCase)
            || name.Contains("TestRunner", StringComparison.OrdinalIgnoreCase);
        return isTestHost ? executorAssembly : entry!;
    }

    public static WorkerLaunch For(Assembly program)
    {
        string? processPath = Environment.ProcessPath;
        bool underDotnetHost = processPath is not null
            && Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        bool isEntry = program == Assembly.GetEntryAssembly();
        string location = program.Location;
        if (isEntry && !underDotnetHost && processPath is not null)
        {
            // An apphost or a single-file app: run it again.
            return new WorkerLaunch(processPath, [IsolatedWorker.Marker]);
        }

        if (location.Length == 0)
        {
            throw new InvalidOperationException(
                $"The worker program {program.GetName().Name} has no file on disk (a single-file app whose workers are not its entry assembly?); set IsolationOptions.WorkerAssembly to the entry assembly.");
        }

        string host = underDotnetHost
            ? processPath!
            : Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        string directory = Path.GetDirectoryName(location)!;
        string stem = Path.GetFileNameWithoutExtension(location);
        string runtimeConfig = Path.Combine(directory, stem + ".runtimeconfig.json");
        string deps = Path.Combine(directory, stem + ".deps.json");
        if (!File.Exists(runtimeConfig))
        {
            throw new InvalidOperationException(
                $"The worker program {location} has no {stem}.runtimeconfig.json beside it, so it cannot be run: it must be an executable project (OutputType Exe, or a test project) whose Main calls IsolatedWorker.RunIfWorker(args) first.");
        }

        List<string> arguments = ["exec", "--runtimeconfig", runtimeConfig];
        if (File.Exists(deps))
        {
            arguments.Add("--depsfile");
            arguments.Add(deps);
        }

        arguments.Add(location);
        arguments.Add(IsolatedWorker.Marker);
        return new WorkerLaunch(host, arguments);
    }

    public ProcessStartInfo CreateStartInfo(IsolationOptions options)
    {
        var start = new ProcessStartInfo(FileName)
        {
            UseShellExecute = false,
            CreateNoWindow = true,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // Workers are many and small: workstation GC unless the user says otherwise (a server-GC parent would give
        // every worker a heap per core).
        start.Environment["DOTNET_gcServer"] = "0";
        if (options.Environment is { } environment)
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
}
