// The sleepers across a cluster of Orleans silos on this machine (loopback only), with a silo killed mid-run.
//
//   examples/Cluster/start-cluster.sh                                   three silo processes in the background
//   dotnet run --project examples/Cluster -c Release -- client --kill-after 300
//   examples/Cluster/stop-cluster.sh
//
// Modes (each takes --silos N --base-port N --gateway-port N, defaults 3, 11111, 30000):
//   silo   --id N                                         one silo; silo 0 holds the membership table
//   client [--calls 1000] [--sleep-ms 100] [--executors 30] [--kill-after N]
//          runs the calls across the silos; with --kill-after it kill -9s a silo (not silo 0) once N results are in,
//          then checks that every call ended exactly once; exit code 0 when none was lost or duplicated
//   bench  [--executors 30] [--calls 3000]                1 ms calls on the cluster against a local pool, and the
//          per-call overhead of tiny calls, one per message and batched
var arguments = new List<string>(args);
if (arguments.Count == 0 || arguments[0] is not ("silo" or "client" or "bench"))
{
    Console.Error.WriteLine("usage: Cluster silo --id N | client [--calls N] [--sleep-ms N] [--executors N] [--kill-after N] | bench [--executors N] [--calls N]  (all: [--silos N] [--base-port N] [--gateway-port N])");
    return 2;
}

string mode = arguments[0];
var options = ExampleOptions.Parse([.. arguments.Skip(1)], new()
{
    ["--silos"] = 3,
    ["--base-port"] = 11111,
    ["--gateway-port"] = 30000,
    ["--id"] = 0,
    ["--calls"] = mode == "bench" ? 3000 : 1000,
    ["--sleep-ms"] = 100,
    ["--executors"] = 30,
    ["--kill-after"] = 0,
});
if (options is null || options["--silos"] < 1 || options["--executors"] < 1 || options["--id"] >= options["--silos"])
{
    Console.Error.WriteLine("error: bad arguments; run without arguments for the usage.");
    return 2;
}

var endpoints = new Endpoints(options["--silos"], options["--base-port"], options["--gateway-port"]);
return mode switch
{
    "silo" => await SiloHost.RunAsync(options["--id"], endpoints),
    "client" => await JobClient.RunAsync(endpoints, options["--calls"], options["--sleep-ms"], options["--executors"], options["--kill-after"]),
    _ => await Bench.RunAsync(endpoints, options["--executors"], options["--calls"]),
};
