/**
 * emulator/main.ts — the loopback HTTPS emulator of Entra ID, ARM, Resource Graph, Log Analytics
 * and ACR that the live collectors and CI are tested against. See docs/emulator.md.
 *
 *   npm run emulator -- [--port N] [--snapshot DIR] [--throttle] [--fault kind=value]… [--seed N]
 *                       [--time-shift auto|none|<days>] [--page-size N] [--activity-page-size N]
 *                       [--acr-page-size N] [--throttle-capacity N] [--throttle-refill R] [--throttle-silent]
 *                       [--client-secret S] [--host ADDR] [--anonymous-pull]
 *
 * Prints one JSON line on stdout ({armEndpoint, authorityHost, tenantId, clientId, clientSecret,
 * caFile}), then serves until SIGTERM or SIGINT (exit 0).
 */
import { addFault, emptyFaults } from "./faults.ts";
import { type EmulatorOptions, startEmulator } from "./server.ts";

function usage(msg: string): never {
  process.stderr.write(
    `emulator: ${msg}\nUsage: npm run emulator -- [--port N] [--snapshot DIR] [--throttle] [--fault kind=value]… [--seed N] [--time-shift auto|none|<days>] (docs/emulator.md)\n`,
  );
  process.exit(3);
}

function int(name: string, v: string | undefined, min = 0): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min) usage(`${name} takes an integer >= ${min}, got '${v ?? ""}'`);
  return n;
}

function parse(argv: string[]): EmulatorOptions {
  const o: EmulatorOptions = {};
  const faults = emptyFaults();
  let throttle = false;
  let silent = false;
  let capacity: number | undefined;
  let refill: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const eq = a.indexOf("=");
    const [flag, inline] = a.startsWith("--") && eq > 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
    const val = () => inline ?? argv[++i];
    switch (flag) {
      case "--port":
        o.port = int("--port", val());
        break;
      case "--host":
        o.host = val();
        break;
      case "--snapshot":
        o.snapshot = val();
        break;
      case "--throttle":
        throttle = true;
        break;
      case "--throttle-silent":
        silent = true;
        throttle = true;
        break;
      case "--throttle-capacity":
        capacity = int("--throttle-capacity", val(), 1);
        throttle = true;
        break;
      case "--throttle-refill": {
        const v = val();
        refill = Number(v);
        if (!(refill >= 0)) usage(`--throttle-refill takes a number of reads per second, got '${v ?? ""}'`);
        throttle = true;
        break;
      }
      case "--fault":
        try {
          addFault(faults, val() ?? "");
        } catch (e) {
          usage((e as Error).message);
        }
        break;
      case "--seed":
        o.seed = int("--seed", val());
        break;
      case "--time-shift": {
        const v = val();
        if (v === "auto" || v === "none") o.timeShift = v;
        else if (v !== undefined && /^-?\d+$/.test(v)) o.timeShift = Number(v);
        else usage(`--time-shift takes auto, none or a number of days, got '${v ?? ""}'`);
        break;
      }
      case "--page-size":
        o.pageSize = int("--page-size", val(), 1);
        break;
      case "--activity-page-size":
        o.activityPageSize = int("--activity-page-size", val(), 1);
        break;
      case "--acr-page-size":
        o.acrPageSize = int("--acr-page-size", val(), 1);
        break;
      case "--client-secret":
        o.clientSecret = val();
        break;
      case "--anonymous-pull":
        o.anonymousPull = true;
        break;
      case "--help":
      case "-h":
        process.stdout.write("See docs/emulator.md\n");
        process.exit(0);
        break;
      default:
        usage(`unknown option '${a}'`);
    }
  }
  o.faults = faults;
  if (throttle) {
    const t: { capacity?: number; refillPerSecond?: number; reportRemaining?: boolean } = {};
    if (silent) t.reportRemaining = false;
    if (capacity !== undefined) t.capacity = capacity;
    if (refill !== undefined) t.refillPerSecond = refill;
    o.throttle = t;
  }
  return o;
}

const opts = parse(process.argv.slice(2));
let emu: Awaited<ReturnType<typeof startEmulator>>;
try {
  emu = await startEmulator(opts);
} catch (e) {
  process.stderr.write(`emulator: ${(e as Error).message}\n`);
  process.exit(2);
}
process.stdout.write(
  `${JSON.stringify({ ...emu.info, logsEndpoint: emu.logsEndpoint, workspaceId: emu.workspaceId })}\n`,
);
process.stderr.write(
  `emulator: serving ${emu.snapshot.name} (time shift ${emu.snapshot.shift.days} days) at ${emu.info.armEndpoint}; Log Analytics ${emu.logsEndpoint} workspace ${emu.workspaceId}; registries ${JSON.stringify(emu.registries)}\n`,
);
const stop = () => {
  emu.close().then(
    () => process.exit(0),
    () => process.exit(0),
  );
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
